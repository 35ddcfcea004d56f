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
