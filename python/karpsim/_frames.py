"""pandas and HTML helpers: the native module returns columns, these turn them into tables."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ._karpsim import ConsolidationResult, ProvisionResult, SimResult


def catalog_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """One row per instance type, indexed by name."""
    df = pd.DataFrame(columns)
    df["spot_savings_percent"] = df["spot_savings_percent"].astype("Int64")
    return df.set_index("name")


def nodes_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """One row per NodeClaim, indexed by NodeClaim name."""
    return pd.DataFrame(columns).set_index("name")


def pods_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """One row per pod (`namespace/name`)."""
    return pd.DataFrame(columns)


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def result_html(result: ProvisionResult, max_rows: int = 20) -> str:
    """A small HTML summary of a provisioning result for notebooks."""
    nodes = result.to_pandas()
    unsched = result.unschedulable
    head = (
        f"<p><b>karpsim.ProvisionResult</b>: {len(nodes)} NodeClaim(s), "
        f"${result.cost_per_hour:.4f}/h, {int(nodes['pods'].sum()) if len(nodes) else 0} pod(s) on new nodes, "
        f"{len(unsched)} unschedulable</p>"
    )
    rows = []
    for name, r in nodes.head(max_rows).iterrows():
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    name,
                    r["nodepool"],
                    r["instance_type"],
                    r["zone"],
                    r["capacity_type"],
                    f"{r['price_per_hour']:.4f}",
                    r["pods"],
                    f"{r['cpu_requested']:.2f} / {r['cpu_allocatable']:.2f}",
                    f"{_gib(r['memory_requested'])} / {_gib(r['memory_allocatable'])}",
                )
            )
            + "</tr>"
        )
    more = f"<p>… {len(nodes) - max_rows} more</p>" if len(nodes) > max_rows else ""
    header = "".join(
        f"<th>{h}</th>"
        for h in ("nodeclaim", "nodepool", "type", "zone", "capacity", "$/h", "pods", "cpu req/alloc", "memory req/alloc")
    )
    table = f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>" if rows else ""
    pending = ""
    if unsched:
        items = "".join(
            f"<li>{html.escape(u['pod'])}: {html.escape(u['reason'])}</li>" for u in unsched[:max_rows]
        )
        pending = f"<p>Unschedulable:</p><ul>{items}</ul>"
    return head + table + more + pending


# --- consolidation -------------------------------------------------------------------------------


def commands_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """One row per disruption command, in the order Karpenter would take them."""
    df = pd.DataFrame(columns)
    df.index.name = "command"
    return df


def kept_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """The nodes disruption looked at and kept, indexed by node, with the reason."""
    return pd.DataFrame(columns).set_index("node")


def consolidation_html(result: ConsolidationResult, max_rows: int = 20) -> str:
    """A small HTML summary of a consolidation result for notebooks."""
    df = result.to_pandas()
    head = (
        f"<p><b>karpsim.ConsolidationResult</b>: {len(df)} command(s) in {result.rounds} round(s), "
        f"${result.cost_per_hour_before:.4f}/h → ${result.cost_per_hour_after:.4f}/h "
        f"(saves ${result.savings_per_hour:.4f}/h), {len(result.kept)} node(s) kept</p>"
    )
    if len(df) == 0:
        return head
    cols = ["method", "action", "nodes", "replacements", "pods_moved", "savings_per_hour", "reason"]
    table = df[cols].head(max_rows).to_html(escape=True, float_format=lambda x: f"{x:.4f}")
    more = f"<p>… {len(df) - max_rows} more</p>" if len(df) > max_rows else ""
    return head + table + more


# --- simulation ----------------------------------------------------------------------------------


def series_frame(result: SimResult) -> pd.DataFrame:
    """The time series, indexed by hours since the start."""
    return pd.DataFrame(result.series()).set_index("time_h")


def breakdown_frame(result: SimResult, kind: str, pivot: bool) -> pd.DataFrame:
    """Node counts by a category over time, long (time_h, key, count) or pivoted (one column per key)."""
    df = pd.DataFrame(result._breakdown(kind))
    df = df.rename(columns={"key": kind})
    if not pivot:
        return df
    # Several samples may share a time (one is taken whenever the node set changes). Within a sample
    # the keys come sorted, so a new sample starts where the time changes or the key does not grow.
    times_col = df["time_h"].to_numpy()
    keys = df[kind].to_numpy()
    sample = []
    current = -1
    for i in range(len(df)):
        if i == 0 or times_col[i] != times_col[i - 1] or not keys[i] > keys[i - 1]:
            current += 1
        sample.append(current)
    df = df.assign(_sample=sample)
    wide = df.pivot_table(index="_sample", columns=kind, values="count", aggfunc="sum", fill_value=0.0)
    wide.index = pd.Index(df.groupby("_sample")["time_h"].first().to_numpy(), name="time_h")
    # the state at the end of each time (a step function), then every sampled time, zeros where no node ran
    wide = wide.groupby(level=0).last()
    series = pd.DataFrame(result.series()).groupby("time_h")["nodes"].last()
    wide = wide.reindex(series.index, fill_value=0.0)
    # a time whose last sample had no node at all has no entries of its own
    wide.loc[series.to_numpy() == 0, :] = 0.0
    wide.columns.name = kind
    return wide


def events_frame(result: SimResult) -> pd.DataFrame:
    """The event log: time_h, kind, message."""
    return pd.DataFrame(result._log_columns())


def sim_html(result: SimResult) -> str:
    """A small HTML summary of a simulation result for notebooks."""
    s = result.summary()
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(f'{v:.4g}' if isinstance(v, float) else str(v))}</td></tr>"
        for k, v in s.items()
        if k != "variant"
    )
    return (
        f"<p><b>karpsim.SimResult</b>: {html.escape(result.scenario)}, seed {result.seed}, "
        f"{result.duration_hours:g} h, total cost ${result.total_cost:.2f}</p><table>{rows}</table>"
    )


# --- catalogs from pandas ------------------------------------------------------------------------


def _is_missing(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def catalog_json_from_pandas(df: pd.DataFrame, region: str | None = None) -> str:
    """The custom-catalog JSON of a DataFrame (see `Catalog.from_pandas` for the columns)."""
    import json

    if "name" not in df.columns:
        df = df.reset_index()
        if "name" not in df.columns:
            df = df.rename(columns={df.columns[0]: "name"})
    missing = [c for c in ("cpu", "memory") if c not in df.columns]
    if missing:
        raise ValueError(f"Catalog.from_pandas: missing column(s) {', '.join(missing)} (need name, cpu, memory)")
    if "on_demand_price" not in df.columns and "price" not in df.columns and "spot_price" not in df.columns:
        raise ValueError("Catalog.from_pandas: need a price column (price or on_demand_price, and/or spot_price)")
    types = []
    for row in df.to_dict("records"):
        name = str(row["name"])

        def qty(v: Any) -> Any:
            if isinstance(v, str):
                return v
            f = float(v)
            return int(f) if f.is_integer() else f

        capacity: dict[str, Any] = {"cpu": qty(row["cpu"]), "memory": qty(row["memory"])}
        if not _is_missing(row.get("pods")):
            capacity["pods"] = qty(row["pods"])
        if not _is_missing(row.get("gpus")) and float(row["gpus"]) > 0:
            capacity["nvidia.com/gpu"] = qty(row["gpus"])
        overhead: dict[str, Any] = {}
        for res, over, alloc in (("cpu", "overhead_cpu", "allocatable_cpu"), ("memory", "overhead_memory", "allocatable_memory")):
            if not _is_missing(row.get(over)):
                overhead[res] = qty(row[over])
            elif not _is_missing(row.get(alloc)) and not isinstance(row[res], str):
                diff = float(row[res]) - float(row[alloc])
                if diff > 0:
                    overhead[res] = round(diff, 3) if res == "cpu" else int(diff)
        labels: dict[str, str] = {"kubernetes.io/arch": str(row.get("arch") or "amd64")}
        if not _is_missing(row.get("family")):
            labels["karpenter.k8s.aws/instance-family"] = str(row["family"])
        for col, v in row.items():
            if isinstance(col, str) and col.startswith("label:") and not _is_missing(v):
                labels[col[len("label:"):]] = str(v)
        zones_v = row.get("zones")
        if isinstance(zones_v, str):
            zones = [z.strip() for z in zones_v.split(",") if z.strip()]
        elif zones_v is not None and not isinstance(zones_v, float) and hasattr(zones_v, "__iter__"):
            zones = [str(z) for z in zones_v]
        else:
            zones = ["zone-a"]
        od = row.get("on_demand_price", row.get("price"))
        offerings = []
        for z in zones:
            if not _is_missing(od):
                offerings.append({"zone": z, "capacity_type": "on-demand", "price": float(od)})
            if not _is_missing(row.get("spot_price")):
                offerings.append({"zone": z, "capacity_type": "spot", "price": float(row["spot_price"])})
        t: dict[str, Any] = {"name": name, "capacity": capacity, "labels": labels, "offerings": offerings}
        if overhead:
            t["overhead"] = overhead
        types.append(t)
    doc: dict[str, Any] = {"instance_types": types}
    if region is not None:
        doc["region"] = region
    return json.dumps(doc)
