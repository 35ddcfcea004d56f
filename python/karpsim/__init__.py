"""karpsim: Karpenter's provisioning, disruption and a time-based simulator over real AWS instance
catalogs, from Python.

>>> import karpsim
>>> cluster = karpsim.Cluster.from_paths("examples/online-boutique")   # doctest: +SKIP
>>> karpsim.provision(cluster).to_pandas()                            # doctest: +SKIP
>>> karpsim.consolidate(karpsim.Cluster.from_paths("examples/eks-snapshot/cluster.json"))  # doctest: +SKIP
>>> sc = karpsim.Scenario.load("examples/diurnal-web/scenario.yaml")  # doctest: +SKIP
>>> karpsim.compare(sc, [{"name": "spot", "capacity_types": "spot"}])  # doctest: +SKIP
>>> karpsim.bound(cluster).summary()                                  # doctest: +SKIP
>>> karpsim.advise(cluster).to_pandas()                               # doctest: +SKIP
"""

from ._karpsim import (
    Catalog,
    CatalogError,
    Cluster,
    ConsolidationResult,
    InputError,
    InternalError,
    KarpsimError,
    ProvisionResult,
    Scenario,
    SimResult,
    __version__,
    aws_regions,
    consolidate,
    provision,
    vary_keys,
)
from .optimize import AdviseResult, BoundResult, advise, bound
from .sweep import compare, simulate, summarize_seeds, sweep

# Location attributes default to None, so `err.field` works on any InputError (the Rust side sets them).
for _attr in ("file", "document", "kind", "object", "field"):
    setattr(InputError, _attr, None)
del _attr

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
    "ProvisionResult",
    "Scenario",
    "SimResult",
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
