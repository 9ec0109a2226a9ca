"""The SecNumCloud 3.2 §19.6 ownership test at its boundaries: where the text draws a line, a test on each side.

    no single non-EU entity above 24 % (capital or voting rights); non-EU entities together at most 39 %
    (capital or voting rights); control = more than half of the votes (or a named parent).

Each limit is checked exactly at the value (passes), just above it at the register's precision, 0.001 %
(fails), on capital and on votes separately (one above while the other is below), directly and through
a look-through chain. The register records shares to 0.001 % and look-through results are judged at that
same precision, so float noise (8.8 + 23.6 + 6.6 = 39.00000000000001) never fails an operator that sits
exactly on the limit; the Rego pack compares the same rounded figures (``OwnershipTest.as_dict``).
"""

from __future__ import annotations

import pytest

from souverain.estate.ownership import (
    CONTROL_THRESHOLD,
    SINGLE_THRESHOLD,
    TOTAL_THRESHOLD,
    Holding,
    OwnershipGraph,
    ownership_test,
)

EU = ["FR", "DE", "IE", "NL"]
JUST_ABOVE = 0.001  # the register's precision: DecimalField(decimal_places=3)


def graph(holdings: list[tuple[str, str, float, float]], countries: dict[str, str],
          parents: dict[str, str] | None = None, non_controlling: frozenset[str] = frozenset()) -> OwnershipGraph:
    return OwnershipGraph(countries=countries, names={k: k for k in countries},
                          holdings=[Holding(*h) for h in holdings], parents=parents or {},
                          non_controlling=non_controlling)


def direct(*shares: tuple[str, str, float, float]) -> OwnershipGraph:
    """The operator ``op`` (FR) held by the given (holder, country, capital, votes); the rest by an EU group."""
    capital = 100.0 - sum(s[2] for s in shares)
    votes = 100.0 - sum(s[3] for s in shares)
    holdings = [("op", holder, c, v) for holder, _, c, v in shares] + [("op", "eu-group", capital, votes)]
    countries = {"op": "FR", "eu-group": "FR", **{holder: country for holder, country, _, _ in shares}}
    return graph(holdings, countries)


def test_the_thresholds_are_the_texts() -> None:
    assert (SINGLE_THRESHOLD, TOTAL_THRESHOLD, CONTROL_THRESHOLD) == (24.0, 39.0, 50.0)


# --- one non-EU holder: at most 24 % --------------------------------------------------------------------------


def test_a_single_holder_at_exactly_24_percent_passes() -> None:
    result = ownership_test(direct(("us-fund", "US", 24.0, 24.0)), "op", EU)
    assert result.passed
    assert result.non_eu_single_max == {"entity": "us-fund", "name": "us-fund", "country": "US",
                                        "capital": 24.0, "voting": 24.0}
    assert "within the 24 % limit" in result.explanation[1]


@pytest.mark.parametrize(("capital", "votes"), [(24.0 + JUST_ABOVE, 24.0), (24.0, 24.0 + JUST_ABOVE)])
def test_a_single_holder_just_above_24_percent_fails_on_capital_or_on_votes(capital: float, votes: float) -> None:
    result = ownership_test(direct(("us-fund", "US", capital, votes)), "op", EU)
    assert not result.passed
    assert "above the 24 % limit" in result.explanation[1]
    assert result.non_eu_total_capital <= TOTAL_THRESHOLD and result.non_eu_total_voting <= TOTAL_THRESHOLD


def test_votes_above_24_percent_fail_while_capital_is_far_below() -> None:
    result = ownership_test(direct(("us-fund", "US", 5.0, 25.0)), "op", EU)
    assert not result.passed
    assert result.non_eu_single_max["capital"] == 5.0 and result.non_eu_single_max["voting"] == 25.0


def test_the_largest_non_eu_holder_is_reported_by_its_larger_share() -> None:
    result = ownership_test(direct(("us-fund", "US", 20.0, 2.0), ("cn-fund", "CN", 3.0, 21.0)), "op", EU)
    assert result.passed
    assert result.non_eu_single_max["entity"] == "cn-fund"  # 21 % of votes beats 20 % of capital


def test_eu_holders_never_count_whatever_their_share() -> None:
    result = ownership_test(direct(("de-group", "DE", 90.0, 90.0)), "op", EU)
    assert result.passed and result.non_eu_single_max is None
    assert result.non_eu_total_capital == 0.0 and result.non_eu_total_voting == 0.0


def test_a_single_holder_through_a_chain_at_exactly_24_percent_passes_and_just_above_fails() -> None:
    # op ← 40 % eu-holdco (no control: 40 % of votes) ← 60 % us-fund: 24 % of capital, 24 % of votes.
    def chain(fund_share: float) -> OwnershipGraph:
        return graph([("op", "holdco", 40.0, 40.0), ("op", "eu-group", 60.0, 60.0),
                      ("holdco", "us-fund", fund_share, 49.0), ("holdco", "eu-bank", 100.0 - fund_share, 51.0)],
                     {"op": "FR", "holdco": "FR", "eu-group": "FR", "us-fund": "US", "eu-bank": "FR"})

    assert ownership_test(chain(60.0), "op", EU).passed
    result = ownership_test(chain(60.003), "op", EU)  # 40 % × 60.003 % = 24.0012 % of capital
    assert not result.passed
    assert result.non_eu_single_max["capital"] == 24.001


# --- non-EU entities together: at most 39 % --------------------------------------------------------------------


def test_non_eu_holders_together_at_exactly_39_percent_pass() -> None:
    result = ownership_test(direct(("us", "US", 13.0, 13.0), ("cn", "CN", 13.0, 13.0), ("ch", "CH", 13.0, 13.0)),
                            "op", EU)
    assert result.passed
    assert result.non_eu_total_capital == pytest.approx(39.0)
    assert "within the 39 % limit" in result.explanation[2]


def test_exactly_39_percent_passes_even_when_floats_add_up_to_a_hair_more() -> None:
    assert 8.8 + 23.6 + 6.6 > 39.0  # binary floating point; the register holds these to 0.001 %
    result = ownership_test(direct(("us", "US", 8.8, 8.8), ("cn", "CN", 23.6, 23.6), ("ch", "CH", 6.6, 6.6)),
                            "op", EU)
    assert result.passed, result.explanation
    assert result.as_dict()["non_eu_total_capital"] == 39.0


@pytest.mark.parametrize(("capital", "votes"), [(13.0 + JUST_ABOVE, 13.0), (13.0, 13.0 + JUST_ABOVE)])
def test_non_eu_holders_together_just_above_39_percent_fail_on_capital_or_on_votes(
        capital: float, votes: float) -> None:
    result = ownership_test(direct(("us", "US", 13.0, 13.0), ("cn", "CN", 13.0, 13.0), ("ch", "CH", capital, votes)),
                            "op", EU)
    assert not result.passed
    assert result.non_eu_single_max is not None and max(result.non_eu_single_max["capital"],
                                                        result.non_eu_single_max["voting"]) <= SINGLE_THRESHOLD
    assert "above the 39 % limit" in result.explanation[2]


def test_votes_together_above_39_percent_fail_while_capital_together_is_below() -> None:
    result = ownership_test(direct(("us", "US", 5.0, 20.0), ("cn", "CN", 5.0, 20.0)), "op", EU)
    assert not result.passed
    assert result.non_eu_total_capital == pytest.approx(10.0)
    assert result.non_eu_total_voting == pytest.approx(40.0)


def test_together_through_a_chain_at_exactly_39_percent_passes_and_just_above_fails() -> None:
    # op ← 65 % eu-holdco ← 30 % us-fund + 30 % cn-fund: 19.5 % each, 39 % of capital together. Their votes in
    # the holdco (20 % each) stay below half, so votes multiply: 26 % together.
    def chain(cn_share: float) -> OwnershipGraph:
        return graph([("op", "holdco", 65.0, 65.0), ("op", "eu-group", 35.0, 35.0),
                      ("holdco", "us-fund", 30.0, 20.0), ("holdco", "cn-fund", cn_share, 20.0),
                      ("holdco", "eu-bank", 70.0 - cn_share, 60.0)],
                     {"op": "FR", "holdco": "FR", "eu-group": "FR", "us-fund": "US", "cn-fund": "CN", "eu-bank": "FR"})

    assert ownership_test(chain(30.0), "op", EU).passed
    result = ownership_test(chain(30.002), "op", EU)  # 65 % × 60.002 % = 39.0013 %
    assert not result.passed
    assert result.non_eu_total_capital == pytest.approx(39.0013)


@pytest.mark.parametrize(("each", "together"), [(25.0, 20.0), (25.0 + JUST_ABOVE / 2, 40.0)])
def test_non_eu_holders_together_controlling_an_intermediate_cast_all_of_its_votes(each: float,
                                                                                  together: float) -> None:
    # op ← 40 % eu-holdco ← two non-EU funds with ``each`` of its votes: together exactly half → votes multiply
    # (20 %); together just above half → they control it collectively and cast all of its 40 %.
    g = graph([("op", "holdco", 40.0, 40.0), ("op", "eu-group", 60.0, 60.0), ("holdco", "us-fund", 10.0, each),
               ("holdco", "cn-fund", 10.0, each), ("holdco", "eu-bank", 80.0, 100.0 - 2 * each)],
              {"op": "FR", "holdco": "FR", "eu-group": "FR", "us-fund": "US", "cn-fund": "CN", "eu-bank": "FR"})
    result = ownership_test(g, "op", EU)
    assert result.non_eu_total_voting == pytest.approx(together)
    assert result.non_eu_total_capital == pytest.approx(8.0)
    assert result.passed is (together <= TOTAL_THRESHOLD)


def test_a_non_eu_holder_is_counted_once_not_again_through_its_own_non_eu_parents() -> None:
    # us-fund (US) holds 20 %; its parent us-gp (US) is also upstream: together still 20 %, not 40 %.
    g = graph([("op", "us-fund", 20.0, 20.0), ("op", "eu-group", 80.0, 80.0), ("us-fund", "us-gp", 100.0, 100.0)],
              {"op": "FR", "eu-group": "FR", "us-fund": "US", "us-gp": "US"})
    result = ownership_test(g, "op", EU)
    assert result.passed
    assert result.non_eu_total_capital == pytest.approx(20.0)


# --- control: more than half of the votes ----------------------------------------------------------------------


def controlled_holdco(us_votes: float) -> OwnershipGraph:
    """op ← 40 % eu-holdco ← us-fund with ``us_votes`` of the holdco's votes (10 % of its capital)."""
    return graph([("op", "holdco", 40.0, 40.0), ("op", "eu-group", 60.0, 60.0),
                  ("holdco", "us-fund", 10.0, us_votes), ("holdco", "eu-bank", 90.0, 100.0 - us_votes)],
                 {"op": "FR", "holdco": "FR", "eu-group": "FR", "us-fund": "US", "eu-bank": "FR"})


def test_exactly_half_of_the_votes_is_not_control() -> None:
    g = controlled_holdco(50.0)
    assert g.controlling_parent("holdco") is None
    assert g.look_through("op", "voting")["us-fund"] == pytest.approx(20.0)  # 50 % of 40 %: votes multiply
    result = ownership_test(g, "op", EU)
    assert result.passed
    assert result.non_eu_total_voting == pytest.approx(20.0)


def test_just_above_half_of_the_votes_is_control_and_casts_all_of_the_intermediates_votes() -> None:
    g = controlled_holdco(50.0 + JUST_ABOVE)
    assert g.controlling_parent("holdco")[0] == "us-fund"
    assert g.look_through("op", "voting")["us-fund"] == pytest.approx(40.0)
    assert g.look_through("op", "capital")["us-fund"] == pytest.approx(4.0)  # capital still multiplies
    result = ownership_test(g, "op", EU)
    assert not result.passed
    assert result.non_eu_single_max["voting"] == 40.0
    assert result.non_eu_total_voting == pytest.approx(40.0)
    assert result.non_eu_total_capital == pytest.approx(4.0)


def test_control_chain_stops_at_exactly_half_and_climbs_just_above() -> None:
    assert [entity for entity, _ in controlled_holdco(50.0).control_chain("holdco")] == ["holdco"]
    assert [entity for entity, _ in controlled_holdco(50.0 + JUST_ABOVE).control_chain("holdco")] == [
        "holdco", "us-fund"]


def test_a_named_parent_controls_whatever_its_share() -> None:
    g = graph([("op", "holdco", 40.0, 40.0), ("op", "eu-group", 60.0, 60.0), ("holdco", "us-fund", 10.0, 10.0),
               ("holdco", "eu-bank", 90.0, 90.0)],
              {"op": "FR", "holdco": "FR", "eu-group": "FR", "us-fund": "US", "eu-bank": "FR"},
              parents={"holdco": "us-fund"})
    assert g.controlling_parent("holdco") == ("us-fund", "parent")
    assert g.look_through("op", "voting")["us-fund"] == pytest.approx(40.0)


def test_a_dispersed_public_float_controls_nothing_even_with_most_votes() -> None:
    g = graph([("op", "float", 60.0, 60.0), ("op", "eu-group", 40.0, 40.0)],
              {"op": "FR", "float": "FR", "eu-group": "FR"}, non_controlling=frozenset({"float"}))
    assert g.controlling_parent("op") is None
    assert g.control_chain("op") == [("op", "operator")]


# --- the seat, and what the Rego pack receives -----------------------------------------------------------------


def test_a_seat_outside_the_eu_fails_with_no_foreign_holder_at_all() -> None:
    g = graph([("op", "eu-group", 100.0, 100.0)], {"op": "CH", "eu-group": "FR"})
    result = ownership_test(g, "op", EU)
    assert not result.passed and not result.seat_in_eu
    assert result.non_eu_single_max is None
    assert "outside the EU" in result.explanation[0]


def test_the_pack_receives_the_figures_it_compares_and_the_thresholds() -> None:
    document = ownership_test(direct(("us", "US", 24.0, 10.0), ("cn", "CN", 15.0, 29.0)), "op", EU).as_dict()
    assert document == {
        "passed": False,  # 29 % of votes for one holder
        "seat_in_eu": True,
        "non_eu_single_max": {"entity": "cn", "name": "cn", "country": "CN", "capital": 15.0, "voting": 29.0},
        "non_eu_total_capital": 39.0,
        "non_eu_total_voting": 39.0,
        "thresholds": {"single": 24.0, "total": 39.0},
        "explanation": document["explanation"],
    }
    assert len(document["explanation"]) == 3
