"""karpsim: Karpenter's provisioning over real AWS instance catalogs, from Python.

>>> import karpsim
>>> cluster = karpsim.Cluster.from_paths("examples/online-boutique")   # doctest: +SKIP
>>> result = karpsim.provision(cluster)                               # doctest: +SKIP
>>> result.to_pandas()                                                # doctest: +SKIP
"""

from ._karpsim import (
    Catalog,
    CatalogError,
    Cluster,
    InputError,
    InternalError,
    KarpsimError,
    ProvisionResult,
    __version__,
    aws_regions,
    provision,
)

# Location attributes default to None, so `err.field` works on any InputError (the Rust side sets them).
for _attr in ("file", "document", "kind", "object", "field"):
    setattr(InputError, _attr, None)
del _attr

__all__ = [
    "Catalog",
    "CatalogError",
    "Cluster",
    "InputError",
    "InternalError",
    "KarpsimError",
    "ProvisionResult",
    "__version__",
    "aws_regions",
    "provision",
]
