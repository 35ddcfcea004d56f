"""pandas (and polars, xarray) tables from the columns the native module returns.

One pattern across the package: `to_pandas()` is a result's main table and every other table is a
`*_frame()` method; indexes carry the natural key (NodeClaim, pod, command, node, time, variant);
column names carry their unit (`_usd`, `_usd_per_hour`, `_cores`, `_gib`, `_s`); counts are
integers; utilisations are fractions 0-1; lists stay lists. Imported only when a table is asked for,
so `import karpsim` does not import pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ._karpsim import SimResult

INDEXES = ("datetime", "timedelta", "hours")


def indexed(columns: Mapping[str, Any], index: str | Sequence[str]) -> pd.DataFrame:
    """A frame from columns, indexed by one column (or several, a MultiIndex)."""
    df = pd.DataFrame(dict(columns))
    keys = [index] if isinstance(index, str) else list(index)
    return df.set_index(keys)


def catalog_frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """One row per instance type, indexed by name."""
    df = pd.DataFrame(dict(columns))
    df["spot_savings_percent"] = df["spot_savings_percent"].astype("Int64")
    return df.set_index("name")


def _time_index(time_h: Any, start_s: int, index: str) -> pd.Index:
    hours = np.asarray(time_h, dtype=np.float64)
    if index == "hours":
        return pd.Index(hours, name="time_h")
    offsets = pd.to_timedelta(np.round(hours * 3600.0, 3), unit="s")
    if index == "timedelta":
        return pd.TimedeltaIndex(offsets, name="time")
    if index == "datetime":
        return pd.DatetimeIndex(pd.Timestamp(start_s, unit="s", tz="UTC") + offsets, name="time")
    raise ValueError(f"index={index!r}: expected one of {', '.join(INDEXES)}")


def _series_table(result: SimResult, cols: dict[str, Any], index: str) -> pd.DataFrame:
    """Series columns (with `time_h`) as a frame indexed by time, counts as integers."""
    t = cols.pop("time_h")
    df = pd.DataFrame(cols)
    for c in ("nodes", "pods_running", "pods_pending"):
        df[c] = df[c].astype("int64")
    df.index = _time_index(t, result._start_seconds, index)
    return df


def series_frame(result: SimResult, index: str = "datetime") -> pd.DataFrame:
    """The time series, indexed by time (see `SimResult.to_pandas`)."""
    return _series_table(result, dict(result.series()), index)


def breakdown_frame(result: SimResult, by: str, pivot: bool, index: str = "datetime") -> pd.DataFrame:
    """Node counts by a category over time, long (time, key, count) or pivoted (one column per key)."""
    cols = result._breakdown(by)
    df = pd.DataFrame({"time_h": cols["time_h"], by: cols["key"], "count": cols["count"].astype("int64")})
    if not pivot:
        df.index = _time_index(df.pop("time_h"), result._start_seconds, index)
        return df
    # Several samples may share a time (one is taken whenever the node set changes). Within a sample
    # the keys come sorted, so a new sample starts where the time changes or the key does not grow.
    times = df["time_h"].to_numpy()
    keys = df[by].to_numpy()
    new = np.ones(len(df), dtype=bool)
    if len(df) > 1:
        new[1:] = (times[1:] != times[:-1]) | ~(keys[1:] > keys[:-1])
    df = df.assign(_sample=np.cumsum(new) - 1)
    wide = df.pivot_table(index="_sample", columns=by, values="count", aggfunc="sum", fill_value=0)
    wide.index = pd.Index(df.groupby("_sample")["time_h"].first().to_numpy(), name="time_h")
    # the state at the end of each time (a step function), then every sampled time, zeros where no node ran
    wide = wide.groupby(level=0).last()
    series = result.series()
    nodes = pd.Series(series["nodes"], index=series["time_h"]).groupby(level=0).last()
    wide = wide.reindex(nodes.index, fill_value=0)
    wide.loc[nodes.to_numpy() == 0, :] = 0
    wide = wide.astype("int64")
    wide.columns.name = by
    wide.index = _time_index(wide.index.to_numpy(), result._start_seconds, index)
    return wide


def events_frame(result: SimResult, index: str = "datetime") -> pd.DataFrame:
    """The event log: kind and message, indexed by time."""
    cols = result._log_columns()
    df = pd.DataFrame({"kind": cols["kind"], "message": cols["message"]})
    df.index = _time_index(cols["time_h"], result._start_seconds, index)
    return df


def hourly_frame(result: SimResult, index: str = "datetime") -> pd.DataFrame:
    """The series at every whole hour, as the CLI's hourly table."""
    return _series_table(result, dict(result._hourly_columns(1.0)), index)


#: The scenario comparison's columns: the core's names and the package's (with units).
COMPARE_COLUMNS = {
    "total_cost": "total_cost_usd",
    "mean_cost_per_hour": "mean_cost_usd_per_hour",
    "mean_nodes": "mean_nodes",
    "cpu_utilization": "cpu_utilization",
    "memory_utilization": "memory_utilization",
    "pod_wait_p50_s": "pod_wait_p50_s",
    "pod_wait_p95_s": "pod_wait_p95_s",
    "pod_wait_p99_s": "pod_wait_p99_s",
    "disruptions": "disruptions",
    "interruptions": "interruptions",
    "evictions": "evictions",
    "pending_at_end": "pending_at_end",
}
COUNT_COLUMNS = ("disruptions", "interruptions", "evictions", "pending_at_end")

#: The cluster comparison's columns.
CLUSTER_COLUMNS = {
    "cost_per_hour": "cost_usd_per_hour",
    "reservation_cost_per_hour": "reservation_cost_usd_per_hour",
    "new_cost_per_hour": "new_cost_usd_per_hour",
    "nodes": "nodes",
    "new_nodes": "new_nodes",
    "pods_pending": "pods_pending",
    "cpu_utilization": "cpu_utilization",
    "memory_utilization": "memory_utilization",
    "disruptions": "disruptions",
    "consolidation_savings_per_hour": "consolidation_savings_usd_per_hour",
}
CLUSTER_COUNTS = ("nodes", "new_nodes", "pods_pending", "disruptions")


def compare_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Scenario comparison rows, indexed by (variant, seed)."""
    df = pd.DataFrame(list(rows), columns=["variant", "seed", *COMPARE_COLUMNS])
    df = df.rename(columns=COMPARE_COLUMNS)
    df["seed"] = df["seed"].astype("int64")
    for c in COUNT_COLUMNS:
        df[c] = df[c].astype("int64")
    return df.set_index(["variant", "seed"])


def cluster_compare_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Cluster comparison rows, indexed by variant."""
    df = pd.DataFrame(list(rows), columns=["variant", *CLUSTER_COLUMNS]).rename(columns=CLUSTER_COLUMNS)
    for c in CLUSTER_COUNTS:
        df[c] = df[c].astype("int64")
    return df.set_index("variant")


def _optional(module: str, what: str) -> Any:
    """An optional dependency, or an ImportError that says how to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{what} needs {module}: pip install {module}") from e


def to_polars(df: pd.DataFrame) -> Any:
    """A pandas frame as a polars DataFrame, its index as leading column(s). Built column by column
    from numpy arrays and Python objects, so pyarrow is not needed (lists stay lists)."""
    pl = _optional("polars", "to_polars")
    flat = df.reset_index()
    columns: dict[str, Any] = {}
    for name in flat.columns:
        col = flat[name]
        if col.dtype.kind in "iufb":
            columns[str(name)] = col.to_numpy()
        else:
            columns[str(name)] = col.astype(object).where(col.notna(), None).tolist()
    return pl.DataFrame(columns)


def sim_xarray(result: SimResult) -> Any:
    """The series and node counts by category as an xarray Dataset over `time`."""
    xr = _optional("xarray", "to_xarray")
    series = series_frame(result, "datetime")
    # one value per time: the state at the end of each time
    series = series[~series.index.duplicated(keep="last")]
    ds = xr.Dataset.from_dataframe(series.tz_convert(None).rename_axis("time"))
    for by in ("instance_type", "capacity_type", "nodepool"):
        wide = breakdown_frame(result, by, True, "datetime")
        wide = wide[~wide.index.duplicated(keep="last")].tz_convert(None).rename_axis("time")
        da = xr.DataArray(wide.to_numpy(), coords={"time": wide.index, by: list(wide.columns)}, dims=("time", by))
        ds[f"nodes_by_{by}"] = da.reindex(time=ds["time"], fill_value=0)
    ds.attrs.update(scenario=result.scenario, seed=result.seed, start=result.start.isoformat(), total_cost_usd=result.total_cost)
    return ds


# --- catalogs from pandas ------------------------------------------------------------------------


def _is_missing(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _first(row: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` the row has a value for (None if none)."""
    for n in names:
        v = row.get(n)
        if not _is_missing(v):
            return v
    return None


def catalog_json_from_pandas(df: pd.DataFrame, region: str | None = None) -> str:
    """The custom-catalog JSON of a DataFrame (see `Catalog.from_pandas` for the columns)."""
    import json

    if "name" not in df.columns:
        df = df.reset_index()
        if "name" not in df.columns:
            df = df.rename(columns={df.columns[0]: "name"})
    has = set(df.columns)
    missing = [c for c, alts in (("cpu", ("cpu", "cpu_cores")), ("memory", ("memory", "memory_gib"))) if not has & set(alts)]
    if missing:
        raise ValueError(f"Catalog.from_pandas: missing column(s) {', '.join(missing)} (need name, cpu_cores or cpu, memory_gib or memory)")
    prices = {"on_demand_price_usd_per_hour", "on_demand_price", "price", "spot_price_usd_per_hour", "spot_price"}
    if not has & prices:
        raise ValueError("Catalog.from_pandas: need a price column (on_demand_price_usd_per_hour or price, and/or spot_price_usd_per_hour)")

    def qty(v: Any) -> Any:
        if isinstance(v, str):
            return v
        f = float(v)
        return int(f) if f.is_integer() else f

    def memory(row: Mapping[str, Any], gib: str, raw: str) -> Any:
        v: Any = row.get(gib)
        if not _is_missing(v):
            return int(round(float(v) * 2**30))
        v = row.get(raw)
        return None if _is_missing(v) else qty(v)

    types = []
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in df.to_dict("records")]
    for row in records:
        name = str(row["name"])
        cpu = _first(row, "cpu_cores", "cpu")
        if cpu is None:
            raise ValueError(f"Catalog.from_pandas: {name}: no cpu (cpu_cores or cpu)")
        capacity: dict[str, Any] = {"cpu": qty(cpu), "memory": memory(row, "memory_gib", "memory")}
        if not _is_missing(row.get("pods")):
            capacity["pods"] = qty(row["pods"])
        if not _is_missing(row.get("gpus")) and float(row["gpus"]) > 0:
            capacity["nvidia.com/gpu"] = qty(row["gpus"])
        overhead: dict[str, Any] = {}
        over_cpu = _first(row, "overhead_cpu")
        over_mem = _first(row, "overhead_memory")
        alloc_cpu = _first(row, "allocatable_cpu_cores", "allocatable_cpu")
        alloc_mem = memory(row, "allocatable_memory_gib", "allocatable_memory")
        if over_cpu is not None:
            overhead["cpu"] = qty(over_cpu)
        elif alloc_cpu is not None and not isinstance(cpu, str) and float(cpu) - float(alloc_cpu) > 0:
            overhead["cpu"] = round(float(cpu) - float(alloc_cpu), 3)
        if over_mem is not None:
            overhead["memory"] = qty(over_mem)
        elif alloc_mem is not None and not isinstance(capacity["memory"], str) and not isinstance(alloc_mem, str):
            diff = float(capacity["memory"]) - float(alloc_mem)
            if diff > 0:
                overhead["memory"] = int(diff)
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
        od = _first(row, "on_demand_price_usd_per_hour", "on_demand_price", "price")
        spot = _first(row, "spot_price_usd_per_hour", "spot_price")
        offerings = []
        for z in zones:
            if od is not None:
                offerings.append({"zone": z, "capacity_type": "on-demand", "price": float(od)})
            if spot is not None:
                offerings.append({"zone": z, "capacity_type": "spot", "price": float(spot)})
        t: dict[str, Any] = {"name": name, "capacity": capacity, "labels": labels, "offerings": offerings}
        if overhead:
            t["overhead"] = overhead
        types.append(t)
    doc: dict[str, Any] = {"instance_types": types}
    if region is not None:
        doc["region"] = region
    return json.dumps(doc)
