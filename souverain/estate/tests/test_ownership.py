import pytest

from souverain.estate.ownership import Holding, OwnershipCycleError, OwnershipGraph, ownership_test

EU = ["FR", "DE", "NL", "IE"]


def graph(holdings, countries, parents=None):
    return OwnershipGraph(countries=countries, names={k: k.upper() for k in countries},
                          holdings=[Holding(*h) for h in holdings], parents=parents or {})


def test_direct_single_foreign_holder_above_24_percent_fails():
    g = graph([("op", "us-fund", 25.0, 25.0), ("op", "fr-group", 75.0, 75.0)],
              {"op": "FR", "us-fund": "US", "fr-group": "FR"})
    result = ownership_test(g, "op", EU)
    assert not result.passed
    assert result.non_eu_single_max["entity"] == "us-fund"
    assert result.non_eu_single_max["capital"] == 25.0
    assert "above the 24 % limit" in result.explanation[1]


def test_exactly_24_percent_passes_and_votes_count_separately():
    g = graph([("op", "us-fund", 24.0, 24.0), ("op", "fr-group", 76.0, 76.0)],
              {"op": "FR", "us-fund": "US", "fr-group": "FR"})
    assert ownership_test(g, "op", EU).passed
    g = graph([("op", "us-fund", 10.0, 30.0), ("op", "fr-group", 90.0, 70.0)],
              {"op": "FR", "us-fund": "US", "fr-group": "FR"})
    result = ownership_test(g, "op", EU)
    assert not result.passed
    assert result.non_eu_single_max["voting"] == 30.0


def test_non_eu_holders_together_above_39_percent_fails_even_if_each_is_small():
    holdings = [("op", f"fund{i}", 10.0, 10.0) for i in range(4)] + [("op", "fr", 60.0, 60.0)]
    countries = {"op": "FR", "fr": "FR", **{f"fund{i}": c for i, c in enumerate(["US", "CN", "GB", "CH"])}}
    result = ownership_test(graph(holdings, countries), "op", EU)
    assert not result.passed
    assert result.non_eu_total_capital == pytest.approx(40.0)
    assert result.non_eu_single_max["capital"] == 10.0


def test_indirect_capital_multiplies_through_several_levels():
    # op ← 80 % group (FR) ; op ← 20 % jv (FR) ← 60 % fund (US) ← 100 % gp (KY)
    holdings = [("op", "group", 80.0, 80.0), ("op", "jv", 20.0, 20.0), ("jv", "fund", 60.0, 60.0),
                ("jv", "fr-bank", 40.0, 40.0), ("fund", "gp", 100.0, 100.0)]
    countries = {"op": "FR", "group": "FR", "jv": "FR", "fund": "US", "fr-bank": "FR", "gp": "KY"}
    g = graph(holdings, countries)
    capital = g.look_through("op", "capital")
    assert capital["fund"] == pytest.approx(12.0)
    assert capital["gp"] == pytest.approx(12.0)
    # Votes follow control: the fund controls the JV (60 % > 50 %), so it casts all of the JV's 20 %.
    voting = g.look_through("op", "voting")
    assert voting["fund"] == pytest.approx(20.0)
    assert voting["gp"] == pytest.approx(20.0)
    result = ownership_test(g, "op", EU)
    assert result.passed
    assert result.non_eu_total_capital == pytest.approx(12.0)
    assert result.non_eu_total_voting == pytest.approx(20.0)


def test_control_chain_follows_majority_votes_or_explicit_parent():
    g = graph([("op", "group", 100.0, 100.0), ("group", "state", 23.0, 29.0)],
              {"op": "FR", "group": "FR", "state": "FR"}, parents={})
    assert [e for e, _ in g.control_chain("op")] == ["op", "group"]
    g.parents["group"] = "state"
    chain = g.control_chain("op")
    assert [e for e, _ in chain] == ["op", "group", "state"]
    assert chain[1][1] == "100 % owned"


def test_ownership_cycle_is_rejected_with_the_path():
    g = graph([("a", "b", 50.0, 50.0), ("b", "c", 60.0, 60.0), ("c", "a", 10.0, 10.0)],
              {"a": "FR", "b": "FR", "c": "FR"})
    with pytest.raises(OwnershipCycleError) as info:
        ownership_test(g, "a", EU)
    assert info.value.cycle[0] == info.value.cycle[-1]
    assert set(info.value.cycle) == {"a", "b", "c"}


def test_seat_outside_eu_fails():
    result = ownership_test(graph([], {"op": "US"}), "op", EU)
    assert not result.passed and not result.seat_in_eu
