"""Notebook views (`_repr_html_`) of clusters, scenarios, catalogs and results: a headline, a small
table with units in its headers, and the warnings. Plain HTML from the objects' own data (no pandas)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._karpsim import Catalog, Cluster, ConsolidationResult, ProvisionResult, Scenario, SimResult
    from .optimize import AdviseResult, BoundResult

MAX_ROWS = 20


def _e(v: Any) -> str:
    return html.escape(str(v))


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], total: int | None = None) -> str:
    body = []
    for i, r in enumerate(rows):
        if i == MAX_ROWS:
            break
        body.append("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>")
    if not body:
        return ""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    more = f"<p>… {total - MAX_ROWS} more</p>" if total is not None and total > MAX_ROWS else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _warnings(warnings: Sequence[str]) -> str:
    if not warnings:
        return ""
    items = "".join(f"<li>{_e(w)}</li>" for w in dict.fromkeys(warnings))
    return f"<details><summary>{len(set(warnings))} warning(s)</summary><ul>{items}</ul></details>"


def _head(kind: str, text: str) -> str:
    return f"<p><b>karpsim.{kind}</b>: {text}</p>"


def cluster_html(c: Cluster) -> str:
    changes = ", ".join(f"{k}={v}" for k, v in c.changes)
    rows = [(p, len(c.instance_types(p))) for p in c.nodepools]
    return (
        _head(
            "Cluster",
            f"{c.pod_count} pod(s), {c.daemonset_count} DaemonSet(s), {c.node_count} node(s) "
            f"(${c.node_cost_per_hour:.4f}/h), catalog {_e(c.catalog_name)}"
            + (f", changes: {_e(changes)}" if changes else ""),
        )
        + _table(["NodePool", "instance types"], rows)
        + _warnings(c.warnings)
    )


def scenario_html(s: Scenario) -> str:
    changes = ", ".join(f"{k}={v}" for k, v in s.changes)
    return (
        _head(
            "Scenario",
            f"{_e(s.name)}, from {_e(s.start.isoformat())} for {s.duration_hours:g} h, seed {s.seed}; "
            f"NodePools {_e(', '.join(s.nodepools))}; {len(s.workloads)} workload(s)"
            + (f"; changes: {_e(changes)}" if changes else ""),
        )
        + _table(["workload"], [(w,) for w in s.workloads], len(s.workloads))
        + _warnings(s.warnings)
    )


def catalog_html(c: Catalog) -> str:
    return _head("Catalog", f"{_e(c.name)}, {len(c)} instance types") + _warnings(c.warnings)


def provision_html(r: ProvisionResult) -> str:
    frame_cols = r._node_columns()
    n = len(frame_cols["nodeclaim"])
    rows = zip(
        frame_cols["nodeclaim"],
        frame_cols["nodepool"],
        frame_cols["instance_type"],
        frame_cols["zone"],
        frame_cols["capacity_type"],
        (f"{p:.4f}" for p in frame_cols["price_usd_per_hour"]),
        frame_cols["pods"],
        (f"{a:.2f} / {b:.2f}" for a, b in zip(frame_cols["cpu_requested_cores"], frame_cols["cpu_allocatable_cores"])),
        (f"{a:.1f} / {b:.1f}" for a, b in zip(frame_cols["memory_requested_gib"], frame_cols["memory_allocatable_gib"])),
    )
    table = _table(
        ["NodeClaim", "NodePool", "instance type", "zone", "capacity", "USD/h", "pods", "cpu cores req/alloc", "memory GiB req/alloc"],
        rows,
        n,
    )
    unsched = r.unschedulable
    pending = _table(["pending pod", "reason"], [(u["pod"], u["reason"]) for u in unsched], len(unsched))
    return (
        _head(
            "ProvisionResult",
            f"{n} NodeClaim(s), ${r.cost_per_hour:.4f}/h (${r.cost_per_hour * 730:,.2f}/month), "
            f"{sum(frame_cols['pods'])} pod(s) on new nodes, {len(unsched)} pending",
        )
        + table
        + pending
        + _warnings(r.warnings)
    )


def consolidation_html(r: ConsolidationResult) -> str:
    cols = r._command_columns()
    n = len(cols["command"])
    rows = zip(
        cols["command"],
        cols["method"],
        cols["action"],
        (", ".join(x) for x in cols["nodes"]),
        (", ".join(x) or "-" for x in cols["replacements"]),
        cols["pods_moved"],
        (f"{x:.4f}" for x in cols["savings_usd_per_hour"]),
        cols["reason"],
    )
    table = _table(["command", "method", "action", "nodes", "replacements", "pods moved", "saves USD/h", "reason"], rows, n)
    end = r.end_state
    tail = f", {len(end['nodes'])} node(s) and {len(end['pending'])} pending pod(s) at the end" if end is not None else ""
    return (
        _head(
            "ConsolidationResult",
            f"{n} command(s) in {r.rounds} round(s), ${r.cost_per_hour_before:.4f}/h → ${r.cost_per_hour_after:.4f}/h "
            f"(saves ${r.savings_per_hour:.4f}/h, ${r.savings_per_hour * 730:,.2f}/month), {len(r.kept)} node(s) kept{tail}",
        )
        + table
        + _warnings(r.warnings)
    )


def sim_html(r: SimResult) -> str:
    s = r.summary()
    rows = [
        ("total cost", f"{s['total_cost']:.2f}", "USD"),
        ("mean cost (time-weighted)", f"{s['mean_cost_per_hour']:.4f}", "USD/h"),
        ("mean nodes (time-weighted)", f"{s['mean_nodes']:.2f}", "nodes"),
        ("cpu utilisation", f"{s['cpu_utilization'] * 100:.1f}", "% of allocatable"),
        ("memory utilisation", f"{s['memory_utilization'] * 100:.1f}", "% of allocatable"),
        ("pod wait p50 / p95 / p99", f"{s['pod_wait_p50_s']:.1f} / {s['pod_wait_p95_s']:.1f} / {s['pod_wait_p99_s']:.1f}", "s"),
        ("disruptions", s["disruptions"], "commands"),
        ("interruptions", s["interruptions"], "spot interruptions"),
        ("evictions", s["evictions"], "pods"),
        ("pending at end", s["pending_at_end"], "pods"),
    ]
    return (
        _head(
            "SimResult",
            f"{_e(r.scenario)}, seed {r.seed}, {r.duration_hours:g} h from {_e(r.start.isoformat())}, total cost ${r.total_cost:,.2f}",
        )
        + _table(["", "value", "unit"], rows)
        + _warnings(r.warnings)
    )


def _usd(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def bound_html(r: BoundResult) -> str:
    lb = r.lower_bound_per_hour
    rows = [
        (what, _usd(cost), "-" if nodes is None else nodes, f"{cost / lb:.2f}x" if lb > 0 else "-")
        for what, cost, nodes in r._summary_rows()
    ]
    gap = f"Karpenter's cost is {r.gap:.2f}x the proven lower bound" if r.gap is not None else "the lower bound is 0"
    return (
        _head("BoundResult", f"{r.data['pods']} pod(s); {gap}")
        + _table(["", "USD/h", "nodes", "vs lower bound"], rows)
        + _warnings(r.warnings)
    )


def advise_html(r: AdviseResult) -> str:
    recs = [r.baseline, *r.recommendations]
    rows = [
        (
            "baseline" if i == 0 else i,
            x["name"],
            _usd(x["cost_per_hour"]),
            _usd(x.get("after_consolidation_cost_per_hour")),
            "-" if x.get("vs_lower_bound") is None else f"{x['vs_lower_bound']:.2f}x",
            x["nodes"],
            x["pending"],
        )
        for i, x in enumerate(recs)
    ]
    return (
        _head("AdviseResult", f"{len(r.recommendations)} recommendation(s); lower bound ${r.lower_bound_per_hour:.4f}/h (proven)")
        + _table(["rank", "configuration", "USD/h", "after consolidation USD/h", "vs lower bound", "nodes", "pending pods"], rows, len(recs))
        + _warnings(r.warnings)
    )
