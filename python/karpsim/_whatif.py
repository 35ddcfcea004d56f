"""Simulations with progress bars, and what-if comparisons on local cores (rayon) or on any
`concurrent.futures.Executor` (a Dask `distributed.Client`'s `get_executor()`, Ray, a process pool).

Every (variant, seed) pair runs the same Rust code on either path, so the tables are identical.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from . import _karpsim
from ._karpsim import InputError, Scenario, SimResult

__all__ = ["compare", "simulate", "summarize_seeds", "sweep"]

#: Columns of a comparison table, as `karpsim.sim.whatif.ComparisonRow` in the core.
COLUMNS = [
    "variant",
    "seed",
    "total_cost",
    "mean_cost_per_hour",
    "mean_nodes",
    "cpu_utilization",
    "memory_utilization",
    "pod_wait_p50_s",
    "pod_wait_p95_s",
    "pod_wait_p99_s",
    "disruptions",
    "interruptions",
    "evictions",
    "pending_at_end",
]

Variants = Iterable[Mapping[str, Any] | tuple[str, Mapping[str, Any] | Sequence[tuple[str, Any]]]]


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()  # type: ignore[attr-defined]
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


def _bar(total: int | None, desc: str, enabled: bool) -> Any:
    """A tqdm bar: the notebook widget when ipywidgets is there, the text bar otherwise."""
    if _in_notebook():
        try:
            import ipywidgets  # noqa: F401

            from tqdm.auto import tqdm
        except ImportError:
            from tqdm.std import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(total=total, desc=desc, disable=not enabled, leave=True, unit="run")


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    duration: str | float | None = None,
    progress: bool | None = None,
) -> SimResult:
    """Run the time-based simulation of `scenario` (the GIL is released while it runs).

    `seed` and `duration` (`"48h"`, `"90m"`, `"2d"` or a number of hours) override the scenario's.
    `progress`: show a progress bar (default: when stderr is a terminal or in a notebook). The core
    reports no progress during one run, so the bar shows elapsed time and completes at the end.
    """
    if not _progress_enabled(progress):
        return _karpsim._simulate(scenario, seed=seed, duration=duration)
    out: dict[str, Any] = {}

    def work() -> None:
        try:
            out["result"] = _karpsim._simulate(scenario, seed=seed, duration=duration)
        except BaseException as e:  # re-raised in the calling thread
            out["error"] = e

    with _bar(1, f"simulate {scenario.name}", True) as bar:
        t = threading.Thread(target=work, name="karpsim-simulate", daemon=True)
        t.start()
        while t.is_alive():
            t.join(timeout=1.0)
            bar.refresh()
        if "error" in out:
            raise out["error"]
        bar.update(1)
    result: SimResult = out["result"]
    return result


def _normalize(variants: Variants) -> list[tuple[str, list[tuple[str, str]]]]:
    """Variants as `(name, [(key, value-as-string)])`, validated key by key in Rust."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for i, v in enumerate(variants):
        if isinstance(v, Mapping):
            d = dict(v)
            name = d.pop("name", None)
            changes = _karpsim._changes(d)
        elif isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str):
            name = v[0]
            changes = _karpsim._changes(v[1])
        else:
            raise InputError(
                f"variants[{i}]: expected a dict {{'name': ..., key: value}} or a (name, changes) pair, got {v!r}"
            )
        if name is None:
            name = ",".join(f"{k}={val}" for k, val in changes) or "base"
        out.append((str(name), changes))
    names = [n for n, _ in out]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise InputError(f"variants: duplicate name(s) {', '.join(sorted(dup))}")
    return out


def _run_one(scenario: Scenario, changes: Sequence[tuple[str, str]], seed: int, name: str | None = None) -> dict[str, Any]:
    """One (variant, seed) pair, for executors: a module-level, picklable function.

    Runs exactly what the rayon path runs for that pair and returns its summary row as a dict.
    """
    changes = [(str(k), str(v)) for k, v in changes]
    if name is None:
        name = ",".join(f"{k}={v}" for k, v in changes) or "base"
    row: dict[str, Any] = _karpsim._run_variant(scenario, name, changes, int(seed))
    return row


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=COLUMNS)
    return df


def compare(
    base: Scenario,
    variants: Variants,
    *,
    seeds: Iterable[int] | None = None,
    executor: cf.Executor | None = None,
    progress: bool | None = None,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Simulate variants of `base` and return one summary row per (variant, seed).

    `variants`: dicts `{"name": "spot", "capacity_types": "spot"}` or pairs
    `("spot", {"capacity_types": "spot"})`; keys are those of `karpsim.vary_keys()`. Lists join
    with `+` (`["m7i", "c7i"]` → `m7i+c7i`). Include `{"name": "base"}` for the unchanged scenario.
    `seeds`: default `[base.seed]`; all variants share each seed (common random numbers).

    `executor=None` runs every pair in Rust on the rayon pool with the GIL released (in chunks,
    so the progress bar moves). With a `concurrent.futures.Executor` (e.g.
    `distributed.Client(...).get_executor()`), one task per pair is submitted to
    `karpsim.sweep._run_one`; rows come back in input order either way, and are identical.
    Use `summarize_seeds(df)` for mean ± 95% CI over seeds.
    """
    vs = _normalize(variants)
    seed_list = [int(s) for s in seeds] if seeds is not None else [base.seed]
    if not seed_list:
        raise InputError("seeds: empty")
    for _, changes in vs:
        _karpsim._check_changes(base, changes)
    total = len(vs) * len(seed_list)
    enabled = _progress_enabled(progress)
    rows: list[dict[str, Any]] = []
    with _bar(total, f"compare {base.name}", enabled) as bar:
        if executor is None:
            # Enough variants per call to keep every core busy, few enough that the bar moves.
            per_call = chunk_size or max(1, (os.cpu_count() or 1) // len(seed_list))
            for i in range(0, len(vs), per_call):
                chunk = vs[i : i + per_call]
                rows.extend(_karpsim._compare(base, chunk, seed_list))
                bar.update(len(chunk) * len(seed_list))
        else:
            futures = [
                executor.submit(_run_one, base, changes, seed, name) for name, changes in vs for seed in seed_list
            ]
            for f in cf.as_completed(futures):
                f.result()  # raise the first error early
                bar.update(1)
            rows = [f.result() for f in futures]
    return _frame(rows)


def sweep(
    base: Scenario,
    vary: Mapping[str, Iterable[Any]] | Iterable[str],
    *,
    seeds: Iterable[int] | None = None,
    executor: cf.Executor | None = None,
    progress: bool | None = None,
    include_base: bool = False,
) -> pd.DataFrame:
    """The full grid of what-if values: `vary={"capacity_types": ["spot", "on-demand"], "max_pods": [29, 58]}`
    runs 4 variants (named `capacity_types=spot,max_pods=29`, ...). `vary` may also be CLI-style
    strings `["capacity_types=spot,on-demand", "max_pods=29,58"]`. Other arguments as in `compare`.
    """
    axes: list[list[tuple[str, list[tuple[str, str]]]]] = []
    if isinstance(vary, Mapping):
        for key, values in vary.items():
            axis = []
            for val in values:
                changes = _karpsim._changes({key: val})
                axis.append((f"{key}={changes[0][1]}", changes))
            axes.append(axis)
    else:
        for spec in vary:
            axes.append([(n, list(c)) for n, c in _karpsim._parse_vary(spec)])
    variants: list[tuple[str, list[tuple[str, str]]]] = [("base", [])] if include_base else []
    for combo in itertools.product(*axes):
        variants.append((",".join(n for n, _ in combo), [kv for _, c in combo for kv in c]))
    return compare(base, variants, seeds=seeds, executor=executor, progress=progress)


def summarize_seeds(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% confidence half-width (normal approximation, as the CLI) of every numeric column
    over seeds, one row per variant (in first-seen order): columns `<col>_mean` and `<col>_ci95`, plus `seeds`."""
    numeric = [c for c in df.columns if c not in ("variant", "seed") and pd.api.types.is_numeric_dtype(df[c])]
    out: dict[str, dict[str, float]] = {}
    for variant, group in df.groupby("variant", sort=False):
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
