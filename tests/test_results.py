"""Results: validated when rebuilt, equal when equal, the CLI's report as `str`, warnings that reach
the user, and arguments that cannot abort the interpreter."""

from __future__ import annotations

import json
import pickle
import warnings

import pytest

import karpsim


@pytest.fixture(scope="module")
def results(boutique: karpsim.Cluster, snapshot: karpsim.Cluster, short_scenario: karpsim.Scenario) -> dict[str, object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", karpsim.KarpsimWarning)
        return {
            "provision": karpsim.provision(boutique),
            "consolidate": karpsim.consolidate(snapshot, until_stable=True),
            "simulate": karpsim.simulate(short_scenario.with_duration("1h"), progress=False),
        }


@pytest.mark.parametrize("kind", ["provision", "consolidate", "simulate"])
def test_rebuilding_checks_the_shape(results: dict[str, object], kind: str) -> None:
    r = results[kind]
    cls = type(r)
    good = r.to_json().encode()  # type: ignore[attr-defined]
    assert cls._from_json(good) == r  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(r)) == r
    wrong_type = good.replace(b'"warnings":[', b'"warnings":[5,', 1)
    assert wrong_type != good
    for bad in [b'{"nodeclaims": 5}', b"[]", b"not json", b'{"commands": []}', wrong_type]:
        with pytest.raises(karpsim.KarpsimError, match="not a"):
            cls._from_json(bad)  # type: ignore[attr-defined]
    # a tampered pickle (the same reduce, another state): the state's shape is checked, not trusted
    ctor, _ = r.__reduce__()  # type: ignore[attr-defined]

    class Tampered:
        def __reduce__(self) -> tuple[object, tuple[bytes]]:
            return ctor, (wrong_type,)

    with pytest.raises(karpsim.KarpsimError, match="not a"):
        pickle.loads(pickle.dumps(Tampered()))


@pytest.mark.parametrize("kind", ["provision", "consolidate", "simulate"])
def test_to_json_indent_is_bounded(results: dict[str, object], kind: str) -> None:
    r = results[kind]
    assert json.loads(r.to_json(indent=2)) == json.loads(r.to_json())  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="indent"):
        r.to_json(indent=10**12)  # type: ignore[attr-defined]
    with pytest.raises((OverflowError, TypeError)):
        r.to_json(indent=-1)  # type: ignore[attr-defined]


def test_equality(results: dict[str, object], boutique: karpsim.Cluster) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", karpsim.KarpsimWarning)
        again = karpsim.provision(boutique)
        other = karpsim.provision(boutique, launch="cheapest", max_instance_types=3)
    assert again == results["provision"] and again != other and again != "x"
    assert results["consolidate"] != results["provision"]


def test_str_is_the_cli_report(results: dict[str, object]) -> None:
    p = str(results["provision"])
    assert p.startswith("NODECLAIM") and "total: " in p and "warning: " in p
    assert p.count("warning: 437 spot-capable") <= 1
    c = str(results["consolidate"])
    assert c.startswith("disruption at 2026-11-20T12:00:00Z (until stable")
    s = str(results["simulate"])
    assert "total cost" in s and "hourly:" in s


def test_warnings_reach_the_user(boutique: karpsim.Cluster) -> None:
    with pytest.warns(karpsim.KarpsimWarning, match="spot-capable instance types have no spot price"):
        r = karpsim.provision(boutique)
    assert any("spot-capable" in w for w in r.warnings)
    assert "warning(s)" in r._repr_html_() and "warnings=" in repr(r)
    with warnings.catch_warnings():
        warnings.simplefilter("error", karpsim.KarpsimWarning)
        with pytest.raises(karpsim.KarpsimWarning):
            karpsim.provision(boutique)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        karpsim.provision(boutique)
    texts = [str(w.message) for w in caught if issubclass(w.category, karpsim.KarpsimWarning)]
    assert len(texts) == len(set(texts)) and texts, "each warning once per result"
    assert caught[0].filename == __file__, "the warning points at the caller's line"


def test_notebook_views_have_units(boutique: karpsim.Cluster, short_scenario: karpsim.Scenario, us_east_1: karpsim.Catalog) -> None:
    assert "NodePool" in boutique._repr_html_() and "/h" in boutique._repr_html_()
    html = short_scenario._repr_html_()
    assert "Scenario" in html and short_scenario.start.isoformat() in html
    assert "instance types" in us_east_1._repr_html_()
