"""matplotlib helpers (the optional extra `karpsim[plot]`): cost over time by capacity type, node
count by instance type, utilization, and a packing picture of provisioned nodes.

Each function draws on `ax` (a new figure when None) and returns the Axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ._karpsim import ProvisionResult, SimResult

__all__ = ["cost_over_time", "nodes_by_instance_type", "packing", "utilization"]


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised only without matplotlib
        raise ImportError(
            "karpsim.plot needs matplotlib: pip install 'karpsim[plot]' (or pip install matplotlib)"
        ) from e
    return plt


def _axes(ax: Axes | None, figsize: tuple[float, float] = (9, 3.5)) -> Axes:
    if ax is not None:
        return ax
    _, new = _plt().subplots(figsize=figsize)
    result: Axes = new
    return result


def cost_over_time(result: SimResult, ax: Axes | None = None) -> Axes:
    """Cost per hour over the run, stacked by capacity type (on-demand, spot, reserved)."""
    ax = _axes(ax)
    s = result.series()
    t = s["time_h"]
    layers = [
        ("on-demand", s["cost_per_hour_on_demand"]),
        ("spot", s["cost_per_hour_spot"]),
        ("reserved", s["cost_per_hour_reserved"]),
    ]
    layers = [(n, v) for n, v in layers if v.size and float(v.max()) > 0] or layers[:1]
    ax.stackplot(t, *[v for _, v in layers], labels=[n for n, _ in layers], step="post", alpha=0.85)
    ax.set_xlabel("hours")
    ax.set_ylabel("USD / hour")
    ax.set_title(f"Cost over time — {result.scenario} (total ${result.total_cost:,.2f})")
    ax.legend(loc="upper left")
    ax.margins(x=0)
    return ax


def nodes_by_instance_type(result: SimResult, ax: Axes | None = None, top: int = 10) -> Axes:
    """Node count over time, stacked by instance type (the `top` most used; the rest as "other")."""
    ax = _axes(ax)
    wide = result.nodes_by("instance_type")
    if wide.shape[1] > top:
        order = wide.sum().sort_values(ascending=False).index
        keep = list(order[:top])
        other = wide.drop(columns=keep).sum(axis=1)
        wide = wide[keep].assign(other=other)
    if wide.shape[1]:
        ax.stackplot(wide.index.to_numpy(), *[wide[c].to_numpy() for c in wide.columns], labels=[str(c) for c in wide.columns], step="post")
        ax.legend(loc="upper left", fontsize="small", ncol=2)
    ax.set_xlabel("hours")
    ax.set_ylabel("nodes")
    ax.set_title(f"Nodes by instance type — {result.scenario}")
    ax.margins(x=0)
    return ax


def utilization(result: SimResult, ax: Axes | None = None) -> Axes:
    """CPU and memory requested ÷ allocatable over time."""
    import numpy as np

    ax = _axes(ax)
    s = result.series()
    with np.errstate(invalid="ignore", divide="ignore"):
        cpu = np.where(s["cpu_allocatable"] > 0, s["cpu_requested"] / s["cpu_allocatable"], np.nan)
        mem = np.where(s["memory_allocatable_gib"] > 0, s["memory_requested_gib"] / s["memory_allocatable_gib"], np.nan)
    ax.step(s["time_h"], cpu * 100, where="post", label="cpu")
    ax.step(s["time_h"], mem * 100, where="post", label="memory")
    ax.set_ylim(0, 105)
    ax.set_xlabel("hours")
    ax.set_ylabel("requested / allocatable (%)")
    ax.set_title(f"Utilization — {result.scenario}")
    ax.legend(loc="lower right")
    ax.margins(x=0)
    return ax


def packing(result: ProvisionResult, ax: Axes | None = None, resource: str = "both") -> Axes:
    """One bar per new node: requested vs allocatable cpu and memory (as % of allocatable, so both
    fit one axis), labelled with the instance type. `resource`: "cpu", "memory" or "both"."""
    import numpy as np

    nodes = result.to_pandas()
    ax = _axes(ax, figsize=(max(6.0, 0.5 * len(nodes) + 2), 3.5))
    x = np.arange(len(nodes))
    pairs = []
    if resource in ("cpu", "both"):
        pairs.append(("cpu", nodes["cpu_requested"], nodes["cpu_allocatable"]))
    if resource in ("memory", "both"):
        pairs.append(("memory", nodes["memory_requested"], nodes["memory_allocatable"]))
    if not pairs:
        raise ValueError(f"resource={resource!r}: expected 'cpu', 'memory' or 'both'")
    width = 0.8 / len(pairs)
    for i, (name, req, alloc) in enumerate(pairs):
        pct = (req / alloc.where(alloc > 0)).fillna(0).to_numpy() * 100
        offs = x + (i - (len(pairs) - 1) / 2) * width
        ax.bar(offs, np.full(len(nodes), 100.0), width, color="lightgray", edgecolor="gray", label="allocatable" if i == 0 else None)
        ax.bar(offs, pct, width, label=f"{name} requested")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{r.instance_type}\n{r.capacity_type}" for r in nodes.itertuples()], rotation=45, ha="right", fontsize="small")
    ax.set_ylabel("% of allocatable")
    ax.set_ylim(0, 110)
    ax.set_title(f"Packing — {len(nodes)} node(s), ${result.cost_per_hour:.3f}/h")
    ax.legend(loc="upper right", fontsize="small")
    return ax
