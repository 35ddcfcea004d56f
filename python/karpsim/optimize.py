"""How far from optimal, and what to change: `bound` (a proven lower bound on the hourly cost of the
nodes the cluster's pods need, with Karpenter's cost, the cost after consolidation and the best
packing found) and `advise` (NodePool configurations searched with karpsim's Karpenter).

Both run in Rust with the GIL released; the results are plain objects over the JSON the CLI prints
with `--output json`, with pandas views.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _karpsim
from ._karpsim import Cluster, KarpsimWarning, Scenario

if TYPE_CHECKING:
    import concurrent.futures as cf
    import datetime

    import pandas as pd

__all__ = ["AdviseResult", "BoundResult", "advise", "bound"]


def _time_limit(value: float | str | datetime.timedelta | None) -> float | None:
    """Seconds from a number of seconds, a `timedelta` or a duration string ("90s", "2m")."""
    return None if value is None else _karpsim._seconds(value, "time_limit")


def _warn(warnings: list[str]) -> None:
    """Emit a result's warnings as `KarpsimWarning`, each once, pointing at the caller of bound/advise."""
    import warnings as w

    for message in dict.fromkeys(warnings):
        w.warn(message, KarpsimWarning, stacklevel=3)


def _ints(df: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Counts as integers (nullable where a row has none, e.g. the lower bound's node count)."""
    for c in columns:
        df[c] = df[c].astype("Int64")
    return df


@dataclass(frozen=True)
class _OptimizeResult:
    """What `bound`'s and `advise`'s results share: the CLI's JSON, its report, the bound, warnings."""

    data: dict[str, Any] = field(repr=False)
    report: str = field(default="", repr=False, compare=False)

    @property
    def lower_bound_per_hour(self) -> float:
        """The proven lower bound, USD per hour."""
        return float(self.data["lower_bound_per_hour"])

    @property
    def warnings(self) -> list[str]:
        """Warnings from loading and the search, one line each (also emitted as `KarpsimWarning`)."""
        return list(self.data.get("warnings", []))

    def __str__(self) -> str:
        return self.report or repr(self)


@dataclass(frozen=True)
class BoundResult(_OptimizeResult):
    """Karpenter's cost, the cost after consolidation, the proven lower bound and the best packing.

    `data` is the whole result as `karpsim bound --output json` prints it; `str(result)` is the
    CLI's report. Pickles; results compare equal when their content is equal."""

    @property
    def karpenter_cost_per_hour(self) -> float:
        """What Karpenter's provisioning costs, USD per hour."""
        return float(self.data["karpenter"]["cost_per_hour"])

    @property
    def after_consolidation_cost_per_hour(self) -> float | None:
        """The cost once consolidated until stable, USD per hour (None with `consolidate=False`)."""
        a = self.data.get("after_consolidation")
        return None if a is None else float(a["cost_per_hour"])

    @property
    def best_packing_cost_per_hour(self) -> float:
        """The cheapest packing found, USD per hour."""
        return float(self.data["best_packing"]["cost_per_hour"])

    @property
    def gap(self) -> float | None:
        """Karpenter's cost ÷ the lower bound (None when the bound is 0)."""
        g = self.data.get("gap")
        return None if g is None else float(g)

    def _summary_rows(self) -> list[tuple[str, float, int | None]]:
        d = self.data
        rows: list[tuple[str, float, int | None]] = [("karpenter", self.karpenter_cost_per_hour, int(d["karpenter"]["nodes"]))]
        after = self.after_consolidation_cost_per_hour
        if after is not None:
            rows.append(("after consolidation", after, int(d["after_consolidation"]["nodes"])))
        rows.append(("best packing found", self.best_packing_cost_per_hour, len(d["best_packing"]["nodes"])))
        rows.append(("lower bound (proven)", self.lower_bound_per_hour, None))
        return rows

    def summary_frame(self) -> pd.DataFrame:
        """One row per cost, indexed by `what` (karpenter, after consolidation, best packing found,
        lower bound (proven)): cost_usd_per_hour, nodes (none for the bound), vs_lower_bound (the
        cost ÷ the lower bound)."""
        import pandas as pd

        df = pd.DataFrame(self._summary_rows(), columns=["what", "cost_usd_per_hour", "nodes"]).set_index("what")
        lb = self.lower_bound_per_hour
        df["vs_lower_bound"] = df["cost_usd_per_hour"] / lb if lb > 0 else float("nan")
        return _ints(df, "nodes")

    def to_pandas(self) -> pd.DataFrame:
        """The best packing, one row per node (numbered from 1): nodepool, instance_type, zone,
        capacity_type, price_usd_per_hour, pods (a count), existing (the node's name when it is one
        of the cluster's nodes, else None)."""
        import pandas as pd

        rows = [
            (n["nodepool"], n["instance_type"], n["zone"], n["capacity_type"], float(n["price_per_hour"]), len(n["pods"]), n.get("existing"))
            for n in self.data["best_packing"]["nodes"]
        ]
        cols = ["nodepool", "instance_type", "zone", "capacity_type", "price_usd_per_hour", "pods", "existing"]
        df = pd.DataFrame(rows, columns=cols)
        df.index = pd.RangeIndex(1, len(df) + 1, name="node")
        df["pods"] = df["pods"].astype("int64")
        return df

    def to_polars(self) -> Any:
        """`to_pandas()` as a polars DataFrame (the index becomes the first column); needs polars."""
        from . import _frames

        return _frames.to_polars(self.to_pandas())

    def _repr_html_(self) -> str:
        from . import _html

        return _html.bound_html(self)

    def __repr__(self) -> str:
        g = f"{self.gap:.2f}x" if self.gap is not None else "-"
        return (
            f"<karpsim.BoundResult karpenter=${self.karpenter_cost_per_hour:.4f}/h "
            f"best packing=${self.best_packing_cost_per_hour:.4f}/h lower bound=${self.lower_bound_per_hour:.4f}/h gap={g} "
            f"warnings={len(self.warnings)}>"
        )


@dataclass(frozen=True)
class AdviseResult(_OptimizeResult):
    """The advisor's recommendations (best first), the baseline and the lower bound.

    `data` is the whole result as `karpsim advise --output json` prints it; `str(result)` is the
    CLI's report. Pickles; results compare equal when their content is equal."""

    @property
    def recommendations(self) -> list[dict[str, Any]]:
        """The recommended configurations, best first, as dicts (the CLI's JSON)."""
        return list(self.data["recommendations"])

    @property
    def baseline(self) -> dict[str, Any]:
        """The inputs' own configuration, evaluated as the recommendations are."""
        return dict(self.data["baseline"])

    @property
    def best_nodepools_yaml(self) -> str:
        """The NodePool manifests of the best recommendation."""
        recs = self.data["recommendations"]
        return str(recs[0]["nodepools_yaml"]) if recs else ""

    def to_pandas(self) -> pd.DataFrame:
        """The baseline and the recommendations, indexed by `rank` ("baseline", then 1, 2, ... as the
        CLI numbers them): name, cost_usd_per_hour, after_consolidation_cost_usd_per_hour,
        vs_lower_bound (the cost after consolidation ÷ the lower bound), nodes, pending, disruptions
        (integer counts)."""
        import pandas as pd

        names = {
            "name": "name",
            "cost_per_hour": "cost_usd_per_hour",
            "after_consolidation_cost_per_hour": "after_consolidation_cost_usd_per_hour",
            "vs_lower_bound": "vs_lower_bound",
            "nodes": "nodes",
            "pending": "pending",
            "disruptions": "disruptions",
        }
        rows = [self.data["baseline"], *self.data["recommendations"]]
        df = pd.DataFrame([{new: r.get(old) for old, new in names.items()} for r in rows], columns=list(names.values()))
        df.insert(0, "rank", ["baseline", *range(1, len(rows))])
        return _ints(df.set_index("rank"), "nodes", "pending", "disruptions")

    def to_polars(self) -> Any:
        """`to_pandas()` as a polars DataFrame (the index becomes the first column); needs polars."""
        from . import _frames

        return _frames.to_polars(self.to_pandas())

    def _repr_html_(self) -> str:
        from . import _html

        return _html.advise_html(self)

    def __repr__(self) -> str:
        recs = self.data["recommendations"]
        best = f"{recs[0]['name']} (${recs[0]['cost_per_hour']:.4f}/h)" if recs else "-"
        return f"<karpsim.AdviseResult best={best} lower bound=${self.lower_bound_per_hour:.4f}/h warnings={len(self.warnings)}>"


def bound(
    cluster: Cluster,
    *,
    consolidate: bool = True,
    max_iterations: int = 400,
    time_limit: float | str | datetime.timedelta | None = None,
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
    (seconds, a `timedelta` or "90s") stop the search early. Deterministic unless the time limit
    fires. The provisioning keywords (`max_instance_types` ... `topology_domains`) are `provision`'s,
    checked the same way. The result's warnings are emitted as `KarpsimWarning`."""
    limit = _time_limit(time_limit)
    opts = {
        "consolidate": bool(consolidate),
        "max_iterations": max(1, int(max_iterations)),
        "time_limit_seconds": limit,
    }
    # `provision`'s keyword arguments, checked by the binding's one builder
    doc, report = _karpsim._bound(
        cluster,
        json.dumps(opts),
        max_instance_types=max_instance_types,
        ignore_preferences=ignore_preferences,
        launch=launch,
        min_values=min_values,
        count_new_nodes_against_limits=count_new_nodes_against_limits,
        topology_domains=topology_domains,
    )
    result = BoundResult(json.loads(doc), report)
    _warn(result.warnings)
    return result


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
    time_limit: float | str | datetime.timedelta | None = None,
    executor: cf.Executor | None = None,
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
    Candidates run in parallel on the rayon pool; the result is the same on any thread count. With
    a `concurrent.futures.Executor` (a process pool, `distributed.Client(...).get_executor()`, Ray's),
    each candidate of a round is one task on it (the cluster and scenario are pickled to the
    workers); the ranking and the result are the same as with `executor=None`.
    `time_limit` as for `bound`. The provisioning keywords (`max_instance_types` ...
    `topology_domains`) are `provision`'s. The result's warnings are emitted as `KarpsimWarning`."""
    limit = _time_limit(time_limit)
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
        "time_limit_seconds": limit,
    }
    options_json = json.dumps(opts)
    provisioning: dict[str, Any] = {
        "max_instance_types": max_instance_types,
        "ignore_preferences": ignore_preferences,
        "launch": launch,
        "min_values": min_values,
        "count_new_nodes_against_limits": count_new_nodes_against_limits,
        "topology_domains": topology_domains,
    }
    evaluate = None
    if executor is not None:

        def evaluate(jobs: list[str]) -> list[str]:
            """A round of candidates on the executor, results in the jobs' order."""
            from ._whatif import _bar, _gather

            with _bar(len(jobs), "advise", False) as bar:
                return [str(r) for r in _gather(executor, [(_advise_job, (cluster, options_json, scenario, job, provisioning)) for job in jobs], bar)]

    doc, report = _karpsim._advise(cluster, options_json, scenario, evaluate=evaluate, **provisioning)
    result = AdviseResult(json.loads(doc), report)
    _warn(result.warnings)
    return result


def _advise_job(cluster: Cluster, options_json: str, scenario: Scenario | None, job: str, provisioning: dict[str, Any]) -> str:
    """One candidate of `advise`'s rounds, for executors: a module-level, picklable function."""
    return _karpsim._advise_job(cluster, options_json, scenario, job, **provisioning)
