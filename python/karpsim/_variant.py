"""`karpsim.Variant`: a what-if, typed so that `mypy --strict` checks its keys and values, and
a list of them (of any mix of keys) needs no annotation."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Literal

_Values = str | Sequence[str]


class Variant(dict[str, Any]):
    """One what-if for `karpsim.compare` and `karpsim.sweep`: a name and the keys of
    `karpsim.vary_keys()` (lists join with `+`). A `dict`, so plain dicts work where it does.

    >>> karpsim.Variant("graviton", arch="arm64", capacity_types=["spot", "on-demand"])
    {'name': 'graviton', 'arch': 'arm64', 'capacity_types': ['spot', 'on-demand']}

    Keys left out (None) keep the input's setting. `nodepools` limits the NodePool keys to the
    NodePools it names; `reserved_count` sets the instances left in the capacity reservations
    (`2` for each, or `"cr-0a1b:2+cr-0c2d:1"`); `seed`, `consolidation` and `spot_interruptions`
    apply to scenarios only.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        nodepools: _Values | None = None,
        capacity_types: _Values | None = None,
        instance_families: _Values | None = None,
        instance_categories: _Values | None = None,
        instance_sizes: _Values | None = None,
        arch: _Values | None = None,
        consolidation_policy: Literal["WhenEmpty", "WhenEmptyOrUnderutilized", "Balanced"] | None = None,
        consolidate_after: str | datetime.timedelta | None = None,
        budget: str | int | None = None,
        max_pods: int | None = None,
        on_demand_multiplier: float | None = None,
        spot_multiplier: float | None = None,
        spot_discount: float | None = None,
        price: str | Mapping[str, float] | None = None,
        spot_to_spot: bool | None = None,
        reserved_count: int | str | None = None,
        seed: int | None = None,
        consolidation: bool | None = None,
        spot_interruptions: str | float | None = None,
    ) -> None:
        given = dict(
            nodepools=nodepools,
            capacity_types=capacity_types,
            instance_families=instance_families,
            instance_categories=instance_categories,
            instance_sizes=instance_sizes,
            arch=arch,
            consolidation_policy=consolidation_policy,
            consolidate_after=consolidate_after,
            budget=budget,
            max_pods=max_pods,
            on_demand_multiplier=on_demand_multiplier,
            spot_multiplier=spot_multiplier,
            spot_discount=spot_discount,
            price=price,
            spot_to_spot=spot_to_spot,
            reserved_count=reserved_count,
            seed=seed,
            consolidation=consolidation,
            spot_interruptions=spot_interruptions,
        )
        super().__init__({"name": name} if name is not None else {})
        self.update({k: v for k, v in given.items() if v is not None})
