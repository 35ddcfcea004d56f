"""karpsim: Karpenter's provisioning, disruption and a time-based simulator over real AWS instance
catalogs, from Python.

>>> import karpsim
>>> cluster = karpsim.Cluster.from_paths("examples/online-boutique")   # doctest: +SKIP
>>> print(karpsim.provision(cluster))                                 # doctest: +SKIP
>>> karpsim.compare(cluster, [{"name": "graviton", "arch": "arm64"}]) # doctest: +SKIP
>>> sc = karpsim.Scenario.load("examples/diurnal-web/scenario.yaml")  # doctest: +SKIP
>>> karpsim.compare(sc, [{"name": "spot", "capacity_types": "spot"}])  # doctest: +SKIP
>>> karpsim.bound(cluster).summary_frame()                            # doctest: +SKIP
>>> karpsim.advise(cluster).to_pandas()                               # doctest: +SKIP

`import karpsim` loads only the native module: pandas, matplotlib, dask and tqdm are imported when
first used (a table, a plot, an executor, a progress bar), so the `karpsim` command starts fast.
"""

from ._karpsim import (
    Catalog,
    CatalogError,
    Cluster,
    ConsolidationResult,
    InputError,
    InternalError,
    KarpsimError,
    KarpsimWarning,
    ProvisionResult,
    Scenario,
    SimResult,
    __version__,
    aws_regions,
    consolidate,
    provision,
    vary_keys,
)

# `typing` is not imported either (the command needs none of it); type checkers read this block.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import plot
    from ._variant import Variant
    from ._whatif import compare, simulate, summarize_seeds, sweep
    from .optimize import AdviseResult, BoundResult, advise, bound

# Each distinct warning once by default (a notebook repeats the same catalog notes in every cell
# otherwise); appended, so the user's own filters and `warnings.catch_warnings` still decide. CPython
# forgets what "once" has shown whenever the filters change (pandas changes them), so a warning can
# show again later: the README says so.
import warnings as _warnings

_warnings.filterwarnings("once", category=KarpsimWarning, append=True)
del _warnings

# Location attributes default to None, so `err.field` works on any InputError (the Rust side sets them).
for _attr in ("file", "document", "kind", "object", "field"):
    setattr(InputError, _attr, None)
del _attr

# Imported on first use (PEP 562): the comparisons bring pandas and tqdm, the plots matplotlib.
_LAZY = {
    "compare": "_whatif",
    "simulate": "_whatif",
    "summarize_seeds": "_whatif",
    "sweep": "_whatif",
    "Variant": "_variant",
    "bound": "optimize",
    "advise": "optimize",
    "BoundResult": "optimize",
    "AdviseResult": "optimize",
}


def __getattr__(name: str) -> "Any":
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'karpsim' has no attribute {name!r}")


__all__ = [
    "AdviseResult",
    "BoundResult",
    "Catalog",
    "CatalogError",
    "Cluster",
    "ConsolidationResult",
    "InputError",
    "InternalError",
    "KarpsimError",
    "KarpsimWarning",
    "ProvisionResult",
    "Scenario",
    "SimResult",
    "Variant",
    "__version__",
    "advise",
    "aws_regions",
    "bound",
    "compare",
    "consolidate",
    "provision",
    "simulate",
    "summarize_seeds",
    "sweep",
    "vary_keys",
]
