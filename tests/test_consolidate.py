from __future__ import annotations

import json
import pickle

import pandas as pd
import pytest

import karpsim


def test_one_round_on_the_snapshot(snapshot: karpsim.Cluster) -> None:
    r = karpsim.consolidate(snapshot)
    assert r.rounds == 1
    first = r.commands[0]
    assert first["method"] == "emptiness"
    assert first["nodes"] == ["ip-10-0-5-50.ec2.internal"]
    assert r.end_state is None
    assert r.cost_per_hour_before > r.cost_per_hour_after
    assert r.savings_per_hour == pytest.approx(r.cost_per_hour_before - r.cost_per_hour_after)
    df = r.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == len(r.commands)
    assert df.index.name == "command" and list(df.index) == list(range(1, len(df) + 1)), "numbered as the CLI numbers them"
    assert df.loc[1, "method"] == "emptiness"
    assert df.loc[1, "nodes"] == ["ip-10-0-5-50.ec2.internal"], "lists stay lists"
    assert {"method", "action", "nodes", "savings_usd_per_hour", "reason"} <= set(df.columns)
    kept = r.kept_frame()
    assert kept.index.name == "node"
    assert list(kept.index) == [k["node"] for k in r.kept]
    with pytest.raises(ValueError, match="until_stable"):
        r.end_state_frame()
    assert "ConsolidationResult" in repr(r)
    assert "emptiness" in r._repr_html_()


def test_until_stable_saves_more(snapshot: karpsim.Cluster) -> None:
    once = karpsim.consolidate(snapshot)
    stable = karpsim.consolidate(snapshot, until_stable=True)
    assert stable.rounds >= 1
    assert stable.end_state is not None
    assert set(stable.end_state) == {"nodes", "pending"}
    assert stable.savings_per_hour >= once.savings_per_hour > 0
    names = {n["name"] for n in stable.end_state["nodes"]}
    assert "ip-10-0-5-50.ec2.internal" not in names
    end = stable.end_state_frame()
    assert end.index.name == "node" and set(end.index) == names
    assert end["price_usd_per_hour"].sum() == pytest.approx(stable.cost_per_hour_after)
    assert end["pods"].dtype.kind == "i"
    assert stable.pending_frame().empty
    moves = stable.moves_frame()
    assert moves.index.names == ["command", "pod"]
    assert len(moves) == sum(len(c["pods"]) for c in stable.commands)
    assert "command 1: emptiness delete" in str(stable), "str() is the CLI report"
    assert "end state: " in str(stable)


def test_pickle_and_json_round_trip(snapshot: karpsim.Cluster) -> None:
    r = karpsim.consolidate(snapshot, until_stable=True)
    back = pickle.loads(pickle.dumps(r))
    assert back.to_json() == r.to_json()
    assert back.commands == r.commands
    assert json.loads(r.to_json(indent=2))["rounds"] == r.rounds


def test_options_are_validated(snapshot: karpsim.Cluster) -> None:
    with pytest.raises(karpsim.InputError, match="candidate_order"):
        karpsim.consolidate(snapshot, candidate_order="cheapest-first")
    r = karpsim.consolidate(snapshot, candidate_order="disruption-cost", spot_to_spot=True)
    assert r.commands


def test_now_accepts_what_users_hold(snapshot: karpsim.Cluster) -> None:
    import datetime

    at = datetime.datetime(2026, 11, 21, 12, 0, tzinfo=datetime.timezone.utc)
    seconds = int(at.timestamp())
    as_int = karpsim.consolidate(snapshot, now=seconds)
    assert as_int.now == seconds
    assert karpsim.consolidate(snapshot, now=at) == as_int
    assert karpsim.consolidate(snapshot, now="2026-11-21T12:00:00Z") == as_int
    assert karpsim.consolidate(snapshot, now=at.replace(tzinfo=None)) == as_int, "naive means UTC"
    with pytest.raises(karpsim.InputError, match="now") as e:
        karpsim.consolidate(snapshot, now="yesterday")
    assert e.value.field == "now"


def test_a_zero_budget_blocks(snapshot: karpsim.Cluster) -> None:
    objects = json.loads((snapshot_path()).read_text())["items"]
    for o in objects:
        if o.get("kind") == "NodePool":
            o["spec"].setdefault("disruption", {})["budgets"] = [{"nodes": "0%"}]
    blocked = karpsim.consolidate(karpsim.Cluster.from_objects(objects), until_stable=True)
    assert blocked.commands == [] or all(c["method"] == "expiration" for c in blocked.commands)


def snapshot_path():  # type: ignore[no-untyped-def]
    from conftest import SNAPSHOT

    return SNAPSHOT


def test_max_rounds_caps_until_stable_with_a_warning(snapshot: karpsim.Cluster) -> None:
    settled = karpsim.consolidate(snapshot, until_stable=True)
    assert settled.rounds > 1
    assert not any("max_rounds" in w for w in settled.warnings)
    with pytest.warns(karpsim.KarpsimWarning, match=r"stopped after 1 rounds \(max_rounds\)"):
        cut = karpsim.consolidate(snapshot, until_stable=True, max_rounds=1)
    assert cut.rounds == 1
    assert cut.commands == settled.commands[: len(cut.commands)]
    with pytest.raises(karpsim.InputError, match="max_rounds"):
        karpsim.consolidate(snapshot, max_rounds=5)
    with pytest.raises(karpsim.InputError, match="max_rounds"):
        karpsim.consolidate(snapshot, until_stable=True, max_rounds=0)
