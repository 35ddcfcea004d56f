"""How far from optimal, and what to change: `bound` (a proven lower bound on the hourly cost of the
nodes the cluster's pods need, with Karpenter's cost, the cost after consolidation and the best
packing found) and `advise` (NodePool configurations searched with karpsim's Karpenter).

Both run in Rust with the GIL released; the results are plain objects over the JSON the CLI prints
with `--output json`, with pandas views.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _karpsim
from ._karpsim import Cluster, InputError, Scenario

__all__ = ["AdviseResult", "BoundResult", "advise", "bound"]



@dataclass(frozen=True)
class BoundResult:
    """Karpenter's cost, the cost after consolidation, the proven lower bound and the best packing.

    `data` is the whole result as `karpsim bound --output json` prints it."""

    data: dict[str, Any] = field(repr=False)

    @property
    def lower_bound_per_hour(self) -> float:
        return float(self.data["lower_bound_per_hour"])

    @property
    def karpenter_cost_per_hour(self) -> float:
        return float(self.data["karpenter"]["cost_per_hour"])

    @property
    def after_consolidation_cost_per_hour(self) -> float | None:
        a = self.data.get("after_consolidation")
        return None if a is None else float(a["cost_per_hour"])

    @property
    def best_packing_cost_per_hour(self) -> float:
        return float(self.data["best_packing"]["cost_per_hour"])

    @property
    def gap(self) -> float | None:
        g = self.data.get("gap")
        return None if g is None else float(g)

    @property
    def warnings(self) -> list[str]:
        return list(self.data.get("warnings", []))

    def summary(self) -> pd.DataFrame:
        """One row per cost: Karpenter, after consolidation, best packing, lower bound."""
        rows = [("karpenter", self.karpenter_cost_per_hour, self.data["karpenter"]["nodes"])]
        if self.after_consolidation_cost_per_hour is not None:
            rows.append(("after consolidation", self.after_consolidation_cost_per_hour, self.data["after_consolidation"]["nodes"]))
        rows.append(("best packing found", self.best_packing_cost_per_hour, len(self.data["best_packing"]["nodes"])))
        rows.append(("lower bound (proven)", self.lower_bound_per_hour, None))
        df = pd.DataFrame(rows, columns=["what", "cost_per_hour", "nodes"]).set_index("what")
        df["vs_lower_bound"] = df["cost_per_hour"] / self.lower_bound_per_hour if self.lower_bound_per_hour > 0 else float("nan")
        return df

    def to_pandas(self) -> pd.DataFrame:
        """The best packing, one row per node."""
        nodes = self.data["best_packing"]["nodes"]
        return pd.DataFrame(
            [{k: (len(v) if k == "pods" else v) for k, v in n.items()} for n in nodes],
            columns=["nodepool", "instance_type", "zone", "capacity_type", "price_per_hour", "pods"],
        )

    def __repr__(self) -> str:
        g = f"{self.gap:.2f}x" if self.gap is not None else "-"
        return (
            f"<karpsim.BoundResult karpenter=${self.karpenter_cost_per_hour:.4f}/h "
            f"best packing=${self.best_packing_cost_per_hour:.4f}/h lower bound=${self.lower_bound_per_hour:.4f}/h gap={g}>"
        )


@dataclass(frozen=True)
class AdviseResult:
    """The advisor's recommendations (best first), the baseline and the lower bound.

    `data` is the whole result as `karpsim advise --output json` prints it."""

    data: dict[str, Any] = field(repr=False)

    @property
    def lower_bound_per_hour(self) -> float:
        return float(self.data["lower_bound_per_hour"])

    @property
    def recommendations(self) -> list[dict[str, Any]]:
        return list(self.data["recommendations"])

    @property
    def baseline(self) -> dict[str, Any]:
        return dict(self.data["baseline"])

    @property
    def best_nodepools_yaml(self) -> str:
        """The NodePool manifests of the best recommendation."""
        recs = self.data["recommendations"]
        return str(recs[0]["nodepools_yaml"]) if recs else ""

    @property
    def warnings(self) -> list[str]:
        return list(self.data.get("warnings", []))

    def to_pandas(self) -> pd.DataFrame:
        """The baseline and the recommendations, one row each."""
        cols = ["name", "cost_per_hour", "after_consolidation_cost_per_hour", "vs_lower_bound", "nodes", "pending", "disruptions"]
        rows = [self.data["baseline"], *self.data["recommendations"]]
        df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)
        df.insert(0, "rank", ["baseline", *range(1, len(rows))])
        return df.set_index("rank")

    def __repr__(self) -> str:
        recs = self.data["recommendations"]
        best = f"{recs[0]['name']} (${recs[0]['cost_per_hour']:.4f}/h)" if recs else "-"
        return f"<karpsim.AdviseResult best={best} lower bound=${self.lower_bound_per_hour:.4f}/h>"


def bound(
    cluster: Cluster,
    *,
    consolidate: bool = True,
    max_iterations: int = 400,
    time_limit: float | None = None,
    max_instance_types: int = 60,
    ignore_preferences: bool = False,
    launch: str = "capacity-type-precedence",
    min_values: str = "strict",
    count_new_nodes_against_limits: bool = False,
    topology_domains: str = "karpenter",
) -> BoundResult:
    """How far Karpenter's result is from the cheapest cluster for the pods it places.

    The lower bound is proven (no set of nodes the NodePools can launch holds those pods for less,
    under the constraints the result lists as included), also when `max_iterations` or `time_limit`
    (seconds) stop the search early. Deterministic unless the time limit fires. The provisioning
    keywords (`max_instance_types` ... `topology_domains`) are `provision`'s, checked the same way."""
    if time_limit is not None and not time_limit > 0:
        raise InputError("time_limit: must be a positive number of seconds")
    opts = {
        "consolidate": bool(consolidate),
        "max_iterations": max(1, int(max_iterations)),
        "time_limit_seconds": None if time_limit is None else float(time_limit),
    }
    # `provision`'s keyword arguments, checked by the binding's one builder
    raw = _karpsim._bound(
        cluster,
        json.dumps(opts),
        max_instance_types=max_instance_types,
        ignore_preferences=ignore_preferences,
        launch=launch,
        min_values=min_values,
        count_new_nodes_against_limits=count_new_nodes_against_limits,
        topology_domains=topology_domains,
    )
    return BoundResult(json.loads(raw))


def advise(
    cluster: Cluster,
    *,
    scenario: Scenario | None = None,
    capacity_types: list[str] | None = None,
    architectures: list[str] | None = None,
    min_families: int | None = None,
    split: bool = True,
    max_candidates: int = 80,
    top: int = 5,
    consolidate: bool = True,
    time_limit: float | None = None,
    max_instance_types: int = 60,
    ignore_preferences: bool = False,
    launch: str = "capacity-type-precedence",
    min_values: str = "strict",
    count_new_nodes_against_limits: bool = False,
    topology_domains: str = "karpenter",
) -> AdviseResult:
    """Search NodePool configurations with karpsim's Karpenter and return the best, each with its
    complete NodePool manifests (`nodepools_yaml`).

    By default only narrowing changes are tried (categories, families, generations, the largest
    size, a preferred pool beside the original); `capacity_types` and `architectures` allow the ones
    listed even where a NodePool does not. With `scenario`, every candidate also runs over it.
    Candidates run in parallel on the rayon pool; the result is the same on any thread count. The
    provisioning keywords (`max_instance_types` ... `topology_domains`) are `provision`'s."""
    if time_limit is not None and not time_limit > 0:
        raise InputError("time_limit: must be a positive number of seconds")
    allowed: dict[str, Any] = {"split": bool(split)}
    if capacity_types is not None:
        allowed["capacity_types"] = [str(c) for c in capacity_types]
    if architectures is not None:
        allowed["architectures"] = [str(a) for a in architectures]
    if min_families is not None:
        allowed["min_families"] = int(min_families)
    opts = {
        "consolidate": bool(consolidate),
        "allowed": allowed,
        "max_candidates": max(1, int(max_candidates)),
        "recommendations": max(1, int(top)),
        "time_limit_seconds": None if time_limit is None else float(time_limit),
    }
    raw = _karpsim._advise(
        cluster,
        json.dumps(opts),
        scenario,
        max_instance_types=max_instance_types,
        ignore_preferences=ignore_preferences,
        launch=launch,
        min_values=min_values,
        count_new_nodes_against_limits=count_new_nodes_against_limits,
        topology_domains=topology_domains,
    )
    return AdviseResult(json.loads(raw))
