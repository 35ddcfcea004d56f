"""pandas and HTML helpers: the native module returns columns, these turn them into tables."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ._karpsim import ProvisionResult


def catalog_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """One row per instance type, indexed by name."""
    df = pd.DataFrame(columns)
    df["spot_savings_percent"] = df["spot_savings_percent"].astype("Int64")
    return df.set_index("name")


def nodes_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """One row per NodeClaim, indexed by NodeClaim name."""
    return pd.DataFrame(columns).set_index("name")


def pods_frame(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """One row per pod (`namespace/name`)."""
    return pd.DataFrame(columns)


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def result_html(result: ProvisionResult, max_rows: int = 20) -> str:
    """A small HTML summary of a provisioning result for notebooks."""
    nodes = result.to_pandas()
    unsched = result.unschedulable
    head = (
        f"<p><b>karpsim.ProvisionResult</b>: {len(nodes)} NodeClaim(s), "
        f"${result.cost_per_hour:.4f}/h, {int(nodes['pods'].sum()) if len(nodes) else 0} pod(s) on new nodes, "
        f"{len(unsched)} unschedulable</p>"
    )
    rows = []
    for name, r in nodes.head(max_rows).iterrows():
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    name,
                    r["nodepool"],
                    r["instance_type"],
                    r["zone"],
                    r["capacity_type"],
                    f"{r['price_per_hour']:.4f}",
                    r["pods"],
                    f"{r['cpu_requested']:.2f} / {r['cpu_allocatable']:.2f}",
                    f"{_gib(r['memory_requested'])} / {_gib(r['memory_allocatable'])}",
                )
            )
            + "</tr>"
        )
    more = f"<p>… {len(nodes) - max_rows} more</p>" if len(nodes) > max_rows else ""
    header = "".join(
        f"<th>{h}</th>"
        for h in ("nodeclaim", "nodepool", "type", "zone", "capacity", "$/h", "pods", "cpu req/alloc", "memory req/alloc")
    )
    table = f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>" if rows else ""
    pending = ""
    if unsched:
        items = "".join(
            f"<li>{html.escape(u['pod'])}: {html.escape(u['reason'])}</li>" for u in unsched[:max_rows]
        )
        pending = f"<p>Unschedulable:</p><ul>{items}</ul>"
    return head + table + more + pending
