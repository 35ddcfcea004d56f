"""Simulations with progress bars, and what-if comparisons of scenarios (over time) or clusters
(provisioning, then optionally consolidation) on local cores (rayon) or on any
`concurrent.futures.Executor` (a Dask `distributed.Client`'s `get_executor()`, Ray, a process pool).

Every (variant, seed) pair runs the same Rust code on either path, so the tables are identical.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Union

from . import _karpsim
from ._karpsim import Cluster, InputError, KarpsimWarning, Scenario, SimResult

if TYPE_CHECKING:
    import concurrent.futures as cf

    import pandas as pd

    from ._variant import Variant

__all__ = ["compare", "simulate", "summarize_seeds", "sweep"]

#: A variant as `compare` accepts it: a `karpsim.Variant`, any mapping of keys to values (with an
#: optional "name"), or a `(name, changes)` pair.
VariantLike = Union["Variant", Mapping[str, Any], tuple[str, Union[Mapping[str, Any], Sequence[tuple[str, Any]]]]]

_Changes = list[tuple[str, str]]


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return tty or _in_notebook()


def _bar(total: float | None, desc: str, enabled: bool, unit: str = "run") -> Any:
    """A tqdm bar: the notebook widget when ipywidgets is there, the text bar otherwise."""
    import importlib.util

    # the notebook widget needs ipywidgets; without it tqdm.auto would warn and draw text anyway
    widget = _in_notebook() and importlib.util.find_spec("ipywidgets") is not None
    tqdm: Any = importlib.import_module("tqdm.auto" if widget else "tqdm.std").tqdm
    return tqdm(total=total, desc=desc, disable=not enabled, leave=True, unit=unit)


def _warn_once(messages: Iterable[str]) -> None:
    for w in dict.fromkeys(messages):
        warnings.warn(w, KarpsimWarning, stacklevel=3)


def _warn_runs(rows: Sequence[Mapping[str, Any]], said: Sequence[str]) -> None:
    """Emit what each variant's run warned (a round cap that cut until-stable short, pods pending for
    a phantom topology domain...) as `KarpsimWarning`s, one per message naming its variants, as the
    CLI reports them; `said`: the warnings emitted before the runs."""
    runs = [(str(r["variant"]), list(r.get("warnings", []))) for r in rows]
    for w in _karpsim._grouped_warnings("variant", runs, list(said)):
        warnings.warn(w, KarpsimWarning, stacklevel=3)


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    duration: Any = None,
    progress: bool | None = None,
) -> SimResult:
    """Run the time-based simulation of `scenario` (the GIL is released while it runs).

    `seed` and `duration` (`"48h"`, `"90m"`, `"2d"`, a `timedelta` or a number of hours) override
    the scenario's. `progress`: show a bar of simulated hours (default: when stderr is a terminal or
    in a notebook). The result's warnings are emitted as `karpsim.KarpsimWarning`.
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario: expected a karpsim.Scenario, got {type(scenario).__name__}")
    if not _progress_enabled(progress):
        quiet = _karpsim._simulate(scenario, seed=seed, duration=duration, warn=False)
        for w in dict.fromkeys(quiet.warnings):
            warnings.warn(w, KarpsimWarning, stacklevel=2)
        return quiet
    out: dict[str, Any] = {}
    handle = _karpsim._Progress()

    def work() -> None:
        try:
            # warnings are raised below, in the caller's thread
            out["result"] = _karpsim._simulate(scenario, seed=seed, duration=duration, progress=handle, warn=False)
        except BaseException as e:  # re-raised in the calling thread
            out["error"] = e

    t = threading.Thread(target=work, name="karpsim-simulate", daemon=True)
    with _bar(None, f"simulate {scenario.name}", True, unit="h") as bar:
        t.start()
        while t.is_alive():
            t.join(timeout=0.2)
            done, total = handle.get()
            if total:
                bar.total = round(total / 3600.0, 2)
                bar.n = round(done / 3600.0, 2)
                bar.refresh()
    if "error" in out:
        raise out["error"]
    result: SimResult = out["result"]
    for w in dict.fromkeys(result.warnings):
        warnings.warn(w, KarpsimWarning, stacklevel=2)
    return result


def _normalize(variants: Iterable[VariantLike], include_base: bool) -> list[tuple[str, _Changes]]:
    """Variants as `(name, [(key, value-as-string)])`, the base first when asked for."""
    if isinstance(variants, (str, bytes, Mapping)):
        raise InputError(f"variants: expected a list of variants, got {type(variants).__name__}")
    out: list[tuple[str, _Changes]] = []
    for i, v in enumerate(variants):
        if isinstance(v, Mapping):
            d = dict(v)
            name = d.pop("name", None)
            changes = _karpsim._changes(d)
        elif isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str):
            name = v[0]
            changes = _karpsim._changes(v[1])
        else:
            raise InputError(f"variants[{i}]: expected a dict {{'name': ..., key: value}} or a (name, changes) pair, got {v!r}")
        if name is None:
            name = ",".join(f"{k}={val}" for k, val in changes) or "base"
        out.append((str(name), changes))
    if include_base and not any(n == "base" for n, _ in out):
        out.insert(0, ("base", []))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"variants: duplicate name(s) {', '.join(dup)}")
    return out


def _seed_list(base: Scenario, seeds: int | Iterable[int] | None) -> list[int]:
    """Seeds as the CLI reads them: N means 0..N-1 (1: the scenario's own seed), or a list."""
    if seeds is None:
        return [base.seed]
    if isinstance(seeds, bool):
        raise InputError("seeds: expected a count or a list of seeds, got a bool")
    if isinstance(seeds, int):
        if seeds < 1:
            raise InputError(f"seeds: {seeds}: expected at least 1 (N runs seeds 0..N-1)")
        return [base.seed] if seeds == 1 else list(range(seeds))
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise InputError(f"seeds: {s!r} is not a seed (a non-negative int)")
        out.append(s)
    if not out:
        raise InputError("seeds: empty")
    return out


def _run_one(scenario: Scenario, changes: Sequence[tuple[str, str]], seed: int, name: str | None = None) -> dict[str, Any]:
    """One (variant, seed) pair of a scenario, for executors: a module-level, picklable function
    (`karpsim._whatif._run_one`).

    Runs exactly what the rayon path runs for that pair and returns its summary row as a dict.
    """
    changes = [(str(k), str(v)) for k, v in changes]
    if name is None:
        name = ",".join(f"{k}={v}" for k, v in changes) or "base"
    row: dict[str, Any] = _karpsim._run_variant(scenario, name, changes, int(seed))
    return row


def _run_cluster_one(
    cluster: Cluster,
    changes: Sequence[tuple[str, str]],
    name: str,
    run: str = "provision",
    provisioning: Mapping[str, Any] | None = None,
    max_rounds: int | None = None,
) -> dict[str, Any]:
    """One variant of a cluster, for executors (as `_run_one` for scenarios); `provisioning`: the
    keyword arguments of `karpsim.provision`."""
    variant = [(name, [(str(k), str(v)) for k, v in changes])]
    rows: list[dict[str, Any]] = _karpsim._compare_clusters(cluster, variant, run, max_rounds=max_rounds, **(provisioning or {}))
    return rows[0]


def _provisioning(**given: Any) -> dict[str, Any]:
    """The provisioning keyword arguments a caller gave (those not None), as `karpsim.provision` takes them."""
    return {k: v for k, v in given.items() if v is not None}


def compare(
    base: Scenario | Cluster,
    variants: Iterable[VariantLike],
    *,
    seeds: int | Iterable[int] | None = None,
    run: Literal["provision", "consolidate"] | None = None,
    include_base: bool = True,
    executor: cf.Executor | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
    max_rounds: int | None = None,
    max_instance_types: int | None = None,
    ignore_preferences: bool | None = None,
    launch: Literal["capacity-type-precedence", "cheapest"] | None = None,
    min_values: Literal["strict", "best-effort"] | None = None,
    count_new_nodes_against_limits: bool | None = None,
    topology_domains: Literal["karpenter", "launchable"] | None = None,
) -> pd.DataFrame:
    """Run what-if variants of a scenario (simulated over time) or of a cluster (provisioned) and
    return one row per variant (and seed), unchanged base first, as the CLI's `karpsim compare`.

    `variants`: `karpsim.Variant("spot", capacity_types="spot")` (typed: mypy checks its keys), plain
    dicts `{"name": "spot", "capacity_types": "spot"}` (keys of `karpsim.vary_keys()`, lists join
    with `+`) or `(name, changes)` pairs. Values the catalog
    decides and NodePool names are checked before anything runs; a typo raises `InputError` naming
    the valid values. `include_base`: add the unchanged base as the first row, named "base" (unless
    a variant already has that name).

    A `Scenario`: each (variant, seed) is simulated; `seeds` is a list, or N for seeds 0..N-1 (the
    scenario's own seed by default); all variants share each seed (common random numbers). The frame
    is indexed by (variant, seed): total_cost_usd, mean_cost_usd_per_hour and mean_nodes
    (time-weighted means), cpu_utilization and memory_utilization (0-1: time-weighted mean requested
    ÷ mean allocatable), pod_wait_p50_s/p95_s/p99_s, and integer counts disruptions, interruptions,
    evictions, pending_at_end. `summarize_seeds(df)` gives mean ± 95% CI over seeds.

    A `Cluster`: each variant is provisioned from the same inputs, and with `run="consolidate"` its
    NodeClaims launched and the cluster consolidated until stable. Indexed by variant:
    cost_usd_per_hour (every node at the end, plus reservation_cost_usd_per_hour: the capacity
    reservations themselves, used or not), new_cost_usd_per_hour, nodes, new_nodes,
    pods_pending, cpu_utilization, memory_utilization (0-1, workload pods ÷ allocatable),
    disruptions, consolidation_savings_usd_per_hour. `max_rounds` (with `run="consolidate"`): as
    `karpsim.consolidate`'s, for every variant. `max_instance_types`, `ignore_preferences`,
    `launch`, `min_values`, `count_new_nodes_against_limits` and `topology_domains` are
    `karpsim.provision`'s (its defaults when not given) and apply to every variant; a scenario is
    simulated with the defaults, so it refuses them. The cluster's `pod_limit` applies to every variant.

    `executor=None` runs on the rayon pool with the GIL released (in chunks, so the progress bar
    moves). With a `concurrent.futures.Executor` (e.g. `distributed.Client(...).get_executor()`),
    one task per (variant, seed) is submitted; rows come back in input order either way, identical.
    The base's warnings are emitted once as `KarpsimWarning`, then what each variant's runs added
    (a `max_rounds` that cut until-stable short, pods pending for a topology domain no instance type
    has, trace rows outside the run...), one warning per message naming its variants.
    """
    from . import _frames

    vs = _normalize(variants, include_base)
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise InputError(f"chunk_size: {chunk_size!r}: expected a positive int")
    enabled = _progress_enabled(progress)
    provisioning = _provisioning(
        max_instance_types=max_instance_types,
        ignore_preferences=ignore_preferences,
        launch=launch,
        min_values=min_values,
        count_new_nodes_against_limits=count_new_nodes_against_limits,
        topology_domains=topology_domains,
    )
    if isinstance(base, Cluster):
        if seeds is not None:
            raise InputError("seeds: a cluster comparison is deterministic; seeds apply to scenarios")
        mode = run or "provision"
        if mode not in ("provision", "consolidate"):
            raise InputError(f"run: {mode!r}: expected 'provision' or 'consolidate'")
        cannot_launch = [w for name, changes in vs for w in _karpsim._check_cluster_changes(base, changes, name, **provisioning)]
        _warn_once([*base.warnings, *cannot_launch])
        rows: list[dict[str, Any]] = []
        with _bar(len(vs), "compare cluster", enabled) as bar:
            if executor is None:
                per_call = chunk_size or max(1, os.cpu_count() or 1)
                for i in range(0, len(vs), per_call):
                    chunk = vs[i : i + per_call]
                    rows.extend(_karpsim._compare_clusters(base, chunk, mode, max_rounds=max_rounds, **provisioning))
                    bar.update(len(chunk))
            else:
                jobs = [(_run_cluster_one, (base, changes, name, mode, provisioning, max_rounds)) for name, changes in vs]
                rows = _gather(executor, jobs, bar)
        _warn_runs(rows, [*base.warnings, *cannot_launch])
        return _frames.cluster_compare_frame(rows)
    if not isinstance(base, Scenario):
        raise TypeError(f"base: expected a karpsim.Scenario or karpsim.Cluster, got {type(base).__name__}")
    if run is not None:
        raise InputError("run: applies to cluster comparisons; a scenario is simulated over time")
    if max_rounds is not None:
        raise InputError("max_rounds: applies to cluster comparisons with run='consolidate'; a scenario's disruption rounds run in time")
    if provisioning:
        key = next(iter(provisioning))
        raise InputError(f"{key}: applies to cluster comparisons, as for karpsim.provision; a scenario is simulated with the default provisioning options")
    seed_list = _seed_list(base, seeds)
    cannot_launch = [w for name, changes in vs for w in _karpsim._check_changes(base, changes, name)]
    _warn_once([*base.warnings, *cannot_launch])
    total = len(vs) * len(seed_list)
    rows = []
    with _bar(total, f"compare {base.name}", enabled) as bar:
        if executor is None:
            # Enough variants per call to keep every core busy, few enough that the bar moves.
            per_call = chunk_size or max(1, (os.cpu_count() or 1) // len(seed_list))
            for i in range(0, len(vs), per_call):
                chunk = vs[i : i + per_call]
                rows.extend(_karpsim._compare(base, chunk, seed_list))
                bar.update(len(chunk) * len(seed_list))
        else:
            rows = _gather(executor, [(_run_one, (base, changes, seed, name)) for name, changes in vs for seed in seed_list], bar)
    _warn_runs(rows, [*base.warnings, *cannot_launch])
    return _frames.compare_frame(rows)


def _gather(executor: cf.Executor, jobs: list[tuple[Any, tuple[Any, ...]]], bar: Any) -> list[dict[str, Any]]:
    """Submit every job, raise the first error early, return the rows in submission order."""
    import concurrent.futures as cf

    futures = [executor.submit(fn, *args) for fn, args in jobs]
    for f in cf.as_completed(futures):
        f.result()
        bar.update(1)
    return [f.result() for f in futures]


def sweep(
    base: Scenario | Cluster,
    vary: Mapping[str, Iterable[Any]] | Iterable[str],
    *,
    seeds: int | Iterable[int] | None = None,
    run: Literal["provision", "consolidate"] | None = None,
    include_base: bool = True,
    executor: cf.Executor | None = None,
    progress: bool | None = None,
    max_rounds: int | None = None,
    max_instance_types: int | None = None,
    ignore_preferences: bool | None = None,
    launch: Literal["capacity-type-precedence", "cheapest"] | None = None,
    min_values: Literal["strict", "best-effort"] | None = None,
    count_new_nodes_against_limits: bool | None = None,
    topology_domains: Literal["karpenter", "launchable"] | None = None,
) -> pd.DataFrame:
    """The full grid of what-if values: `vary={"capacity_types": ["spot", "on-demand"], "max_pods": [29, 58]}`
    runs 4 variants (named `capacity_types=spot,max_pods=29`, ...) after the base. `vary` may also be
    CLI-style strings `["capacity_types=spot,on-demand", "max_pods=29,58"]`. Other arguments as in
    `compare`.
    """
    axes: list[list[tuple[str, _Changes]]] = []
    if isinstance(vary, Mapping):
        for key, values in vary.items():
            if isinstance(values, (str, bytes)):
                raise InputError(f"vary[{key!r}]: expected a list of values, got the string {values!r}")
            axis = []
            for val in values:
                changes = _karpsim._changes({key: val})
                axis.append((f"{key}={changes[0][1]}", changes))
            axes.append(axis)
    else:
        for spec in vary:
            axes.append([(n, list(c)) for n, c in _karpsim._parse_vary(spec)])
    variants: list[VariantLike] = []
    for combo in itertools.product(*axes):
        variants.append((",".join(n for n, _ in combo), [kv for _, c in combo for kv in c]))
    return compare(
        base,
        variants,
        seeds=seeds,
        run=run,
        include_base=include_base,
        executor=executor,
        progress=progress,
        max_rounds=max_rounds,
        max_instance_types=max_instance_types,
        ignore_preferences=ignore_preferences,
        launch=launch,
        min_values=min_values,
        count_new_nodes_against_limits=count_new_nodes_against_limits,
        topology_domains=topology_domains,
    )


def summarize_seeds(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% confidence half-width (normal approximation, as the CLI) of every numeric column
    of a scenario comparison over seeds, one row per variant (in first-seen order): columns
    `<col>_mean` and `<col>_ci95`, plus `seeds`."""
    import pandas as pd

    if "variant" in df.columns:
        df = df.set_index([c for c in ("variant", "seed") if c in df.columns])
    flat = df.reset_index()
    numeric = [c for c in flat.columns if c not in ("variant", "seed") and pd.api.types.is_numeric_dtype(flat[c])]
    out: dict[str, dict[str, float]] = {}
    for variant, group in flat.groupby("variant", sort=False):
        row: dict[str, float] = {"seeds": float(len(group))}
        for c in numeric:
            mean, half = _karpsim._mean_ci([float(x) for x in group[c]])
            row[f"{c}_mean"] = mean
            row[f"{c}_ci95"] = half
        out[str(variant)] = row
    res = pd.DataFrame.from_dict(out, orient="index")
    res.index.name = "variant"
    res["seeds"] = res["seeds"].astype(int)
    return res
