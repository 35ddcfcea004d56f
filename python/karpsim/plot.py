"""matplotlib helpers (the optional extra `karpsim[plot]`).

Over time (a `SimResult`): cost by capacity type, nodes by instance type and utilisation, on clock
time from the scenario's start (UTC), with batch jobs, executed disruptions and spot interruptions
marked. Provisioning (`ProvisionResult`): how full each new node is, and several results side by
side (amd64 vs arm64...). Comparisons (`karpsim.compare` frames): cost per variant, and cost
against a second measure (p95 pod wait, disruptions...) with every point labelled.

Each function draws on `ax` (a new figure when None) and returns the Axes (or array of Axes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from ._karpsim import ProvisionResult, SimResult

__all__ = [
    "compare_costs",
    "compare_scatter",
    "cost_over_time",
    "nodes_by_instance_type",
    "packing",
    "packing_side_by_side",
    "utilization",
]

#: What `events=True` marks on time axes: (event kind, label, colour, marker row from the top).
EVENT_MARKS = (
    ("job", "batch job arrives", "tab:purple"),
    ("disruption", "disruption executed", "tab:orange"),
    ("interruption", "spot interruption", "tab:red"),
)

# an executed disruption logs its price change ("$0.0960/h → $0.0000/h"); proposals and
# abandoned commands do not
_EXECUTED = re.compile(r"\$[\d.]+/h → \$[\d.]+/h")


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("karpsim.plot needs matplotlib: pip install 'karpsim[plot]' (or pip install matplotlib)") from e
    return plt


def _axes(ax: Axes | None, figsize: tuple[float, float] = (10, 3.5)) -> Axes:
    if ax is not None:
        return ax
    _, new = _plt().subplots(figsize=figsize)
    result: Axes = new
    return result


def _clock(ax: Axes, result: SimResult) -> None:
    """Clock time on the x axis: concise dates, the start and the time zone in the label."""
    import importlib

    mdates: Any = importlib.import_module("matplotlib.dates")
    locator = mdates.AutoDateLocator(tz=result.start.tzinfo)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=result.start.tzinfo))
    ax.set_xlabel(f"time (UTC; the run starts {result.start:%Y-%m-%d %H:%M}, lasts {result.duration_hours:g} h)")
    ax.margins(x=0)


def _mark_events(ax: Axes, result: SimResult) -> None:
    """Short ticks at the top of the axes for batch jobs, executed disruptions and interruptions."""
    ev = result.events_frame()
    trans = ax.get_xaxis_transform()
    for row, (kind, label, colour) in enumerate(EVENT_MARKS):
        sel = ev[ev["kind"] == kind]
        if kind == "disruption":
            sel = sel[sel["message"].str.contains(_EXECUTED)]
        if sel.empty:
            continue
        y = 1.0 - 0.04 * (row + 1)
        ax.scatter(sel.index, [y] * len(sel), transform=trans, marker="|", s=120, color=colour, label=f"{label} ({len(sel)})", zorder=5, clip_on=False)


def cost_over_time(result: SimResult, ax: Axes | None = None, events: bool = True) -> Axes:
    """Cost per hour over the run, stacked by capacity type (on-demand, spot, reserved)."""
    ax = _axes(ax)
    df = result.to_pandas()
    layers = [(n, df[f"cost_usd_per_hour_{c}"]) for n, c in (("on-demand", "on_demand"), ("spot", "spot"), ("reserved", "reserved"))]
    shown = [(n, v) for n, v in layers if len(v) and float(v.max()) > 0] or layers[:1]
    ax.stackplot(df.index, *[v.to_numpy() for _, v in shown], labels=[n for n, _ in shown], step="post", alpha=0.85)
    if events:
        _mark_events(ax, result)
    ax.set_ylabel("USD per hour")
    ax.set_title(f"Cost over time — {result.scenario} (total ${result.total_cost:,.2f})")
    ax.legend(loc="upper left", fontsize="small")
    _clock(ax, result)
    return ax


def nodes_by_instance_type(result: SimResult, ax: Axes | None = None, top: int = 10, events: bool = True) -> Axes:
    """Node count over time, stacked by instance type (the `top` most used; the rest as "other").
    Every step is a launch or a node going away: churn shows as a saw-tooth."""
    ax = _axes(ax)
    wide = result.nodes_frame("instance_type")
    if wide.shape[1] > top:
        order = wide.sum().sort_values(ascending=False).index
        keep = list(order[:top])
        other = wide.drop(columns=keep).sum(axis=1)
        wide = wide[keep].assign(other=other)
    if wide.shape[1]:
        ax.stackplot(wide.index, *[wide[c].to_numpy() for c in wide.columns], labels=[str(c) for c in wide.columns], step="post")
    if events:
        _mark_events(ax, result)
    ax.set_ylabel("nodes")
    ax.set_title(f"Nodes by instance type — {result.scenario} ({int(result.summary()['disruptions'])} disruptions)")
    ax.legend(loc="upper left", fontsize="small", ncol=2)
    _clock(ax, result)
    return ax


def utilization(result: SimResult, ax: Axes | None = None, events: bool = False) -> Axes:
    """CPU and memory requested ÷ allocatable over time, in % of allocatable."""
    import numpy as np

    ax = _axes(ax)
    df = result.to_pandas()
    with np.errstate(invalid="ignore", divide="ignore"):
        cpu = np.where(df["cpu_allocatable_cores"] > 0, df["cpu_requested_cores"] / df["cpu_allocatable_cores"], np.nan)
        mem = np.where(df["memory_allocatable_gib"] > 0, df["memory_requested_gib"] / df["memory_allocatable_gib"], np.nan)
    ax.step(df.index, cpu * 100, where="post", label="cpu")
    ax.step(df.index, mem * 100, where="post", label="memory")
    if events:
        _mark_events(ax, result)
    ax.set_ylim(0, 105)
    ax.set_ylabel("requested ÷ allocatable (%)")
    ax.set_title(f"Utilisation — {result.scenario}")
    ax.legend(loc="lower right", fontsize="small")
    _clock(ax, result)
    return ax


def packing(result: ProvisionResult, ax: Axes | None = None, title: str | None = None) -> Axes:
    """One row per new node: cpu and memory requested as % of allocatable, with the amounts
    written on the bars (cores, GiB) and the node's type, capacity type, zone and price."""
    import numpy as np

    nodes = result.to_pandas()
    ax = _axes(ax, figsize=(9, 1.2 + 0.7 * max(1, len(nodes))))
    y = np.arange(len(nodes))
    h = 0.38
    for off, (res, req, alloc, unit) in zip(
        (-h / 2, h / 2),
        (
            ("cpu", nodes["cpu_requested_cores"], nodes["cpu_allocatable_cores"], "cores"),
            ("memory", nodes["memory_requested_gib"], nodes["memory_allocatable_gib"], "GiB"),
        ),
    ):
        pct = (req / alloc.where(alloc > 0)).fillna(0).to_numpy() * 100
        ax.barh(y + off, np.full(len(nodes), 100.0), h, color="whitesmoke", edgecolor="lightgray")
        bars = ax.barh(y + off, pct, h, label=f"{res} requested")
        for bar, r, a in zip(bars, req, alloc):
            ax.text(2, bar.get_y() + bar.get_height() / 2, f"{r:.2f} / {a:.2f} {unit}", va="center", fontsize="small")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r.instance_type} {r.capacity_type}\n{r.zone}, ${r.price_usd_per_hour:.4f}/h" for r in nodes.itertuples()], fontsize="small")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the node's allocatable")
    ax.set_title(title or f"Packing — {len(nodes)} node(s), ${result.cost_per_hour:.4f}/h")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def packing_side_by_side(results: Mapping[str, ProvisionResult], figsize: tuple[float, float] | None = None) -> Any:
    """`packing` of several results next to each other (e.g. `{"amd64": a, "arm64": b}`), each
    titled with its name and cost per hour. Returns the array of Axes."""
    plt = _plt()
    rows = max((len(r.nodeclaims) for r in results.values()), default=1)
    fig, axes = plt.subplots(1, len(results), figsize=figsize or (6 * len(results), 1.4 + 0.7 * max(1, rows)), squeeze=False)
    for ax, (name, r) in zip(axes[0], results.items()):
        packing(r, ax=ax, title=f"{name}: {len(r.nodeclaims)} node(s), ${r.cost_per_hour:.4f}/h")
    fig.tight_layout()
    return axes[0]


def _by_variant(df: pd.DataFrame) -> pd.DataFrame:
    """A comparison frame with one row per variant (seeds averaged)."""
    if df.index.nlevels > 1:
        return df.groupby(level="variant", sort=False).mean(numeric_only=True)
    return df


def _cost_column(df: pd.DataFrame) -> str:
    for c in ("total_cost_usd", "cost_usd_per_hour", "total_cost_usd_mean"):
        if c in df.columns:
            return c
    raise ValueError(f"no cost column in {list(df.columns)}")


_UNITS = {
    "total_cost_usd": "total cost (USD)",
    "total_cost_usd_mean": "total cost (USD, mean over seeds)",
    "cost_usd_per_hour": "cost (USD per hour)",
    "mean_cost_usd_per_hour": "mean cost (USD per hour)",
    "pod_wait_p95_s": "p95 pod wait (s)",
    "pod_wait_p50_s": "median pod wait (s)",
    "pod_wait_p99_s": "p99 pod wait (s)",
    "disruptions": "disruptions (commands)",
    "interruptions": "spot interruptions",
    "mean_nodes": "mean nodes",
    "nodes": "nodes",
    "pods_pending": "pending pods",
    "pending_at_end": "pods pending at the end",
    "cpu_utilization": "cpu requested ÷ allocatable",
    "memory_utilization": "memory requested ÷ allocatable",
}


def compare_costs(df: pd.DataFrame, ax: Axes | None = None, column: str | None = None) -> Axes:
    """Cost per variant as horizontal bars, cheapest first, each labelled with its value and its
    difference from the base (the first row). Works on scenario (seeds averaged) and cluster
    comparisons."""
    by = _by_variant(df)
    col = column or _cost_column(by)
    ax = _axes(ax, figsize=(9, 0.9 + 0.45 * len(by)))
    base = float(by[col].iloc[0])
    order = by[col].sort_values()
    bars = ax.barh([str(i) for i in order.index], order.to_numpy(), color=["tab:gray" if i == by.index[0] else "tab:blue" for i in order.index])
    for bar, v in zip(bars, order.to_numpy()):
        rel = f" ({(v / base - 1) * 100:+.0f}% vs {by.index[0]})" if base > 0 and bar.get_width() != base else ""
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:,.4g}{rel}", va="center", fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(_UNITS.get(col, col))
    ax.set_xlim(0, float(order.max()) * 1.35 if len(order) and order.max() > 0 else 1)
    ax.set_title(f"{_UNITS.get(col, col)} by variant")
    return ax


def compare_scatter(df: pd.DataFrame, y: str | None = None, x: str | None = None, ax: Axes | None = None) -> Axes:
    """A comparison's cost (x) against another measure (y: p95 pod wait by default, or
    `"disruptions"`...), one numbered point per variant and the numbers explained in a legend, so
    labels never overlap; variants that land on the same point share its number. Scenario
    comparisons over several seeds are averaged per variant."""
    by = _by_variant(df)
    x = x or _cost_column(by)
    y = y or ("pod_wait_p95_s" if "pod_wait_p95_s" in by.columns else "pods_pending")
    ax = _axes(ax, figsize=(9, 4.5))
    points: dict[tuple[float, float], list[str]] = {}
    for name, row in by.iterrows():
        points.setdefault((round(float(row[x]), 9), round(float(row[y]), 9)), []).append(str(name))
    handles = []
    for i, ((px, py), names) in enumerate(points.items(), start=1):
        h = ax.scatter(px, py, s=110, zorder=3, label=f"{i}  {' = '.join(names)}")
        ax.annotate(str(i), (px, py), ha="center", va="center", fontsize="x-small", color="white", zorder=4, fontweight="bold")
        handles.append(h)
    ax.set_xlabel(_UNITS.get(x, x))
    ax.set_ylabel(_UNITS.get(y, y))
    ax.set_title(f"{_UNITS.get(y, y)} against {_UNITS.get(x, x)}")
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title="variant")
    return ax
