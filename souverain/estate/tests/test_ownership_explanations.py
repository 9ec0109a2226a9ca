"""What the ownership test says and how it walks the register, beyond the thresholds (test_ownership_boundaries.py).

Found by mutation testing (docs/development/mutation-testing.md): the explanation sentences (their English text
is the message id the French catalogue translates, so a changed word is a missing translation), an entity with
no name or no country in the register, the largest holder chosen by its larger share, figures reported at the
register's precision (0.001 %), shares reached through several paths, holders that appear twice, a register that
adds up to more than 100 %, cycles anywhere in the graph, and ``Line.render`` (the portal's translated lines).
"""

from __future__ import annotations

import pytest

from souverain.estate.ownership import Holding, Line, OwnershipCycleError, OwnershipGraph, ownership_test

EU = ["FR", "DE", "IE", "NL"]


def graph(holdings: list[tuple[str, str, float, float]], countries: dict[str, str],
          parents: dict[str, str] | None = None, names: dict[str, str] | None = None) -> OwnershipGraph:
    return OwnershipGraph(countries=countries, names=names if names is not None else {k: k.upper() for k in countries},
                          holdings=[Holding(*h) for h in holdings], parents=parents or {})


# --- the explanation, sentence by sentence --------------------------------------------------------------------


def test_an_eu_operator_without_foreign_holders_is_explained_in_three_sentences() -> None:
    result = ownership_test(graph([("op", "fr", 100.0, 100.0)], {"op": "FR", "fr": "FR"}), "op", EU)
    assert result.passed
    assert result.non_eu_single_max is None
    assert result.explanation == [
        "OP has its seat in FR (EU).",
        "No entity outside the EU holds any capital or voting rights of OP.",
        "Non-EU entities together: 0 % of capital and 0 % of voting rights, within the 39 % limit.",
    ]


def test_a_foreign_holder_is_named_with_its_shares_and_the_limit_it_is_judged_against() -> None:
    g = graph([("op", "us", 30.0, 60.0), ("op", "fr", 70.0, 40.0)], {"op": "FR", "us": "US", "fr": "FR"})
    result = ownership_test(g, "op", EU)
    assert not result.passed
    assert result.explanation == [
        "OP has its seat in FR (EU).",
        "Largest non-EU holder: US (US) with 30 % of capital and 60 % of voting rights, above the 24 % limit.",
        "Non-EU entities together: 30 % of capital and 60 % of voting rights, above the 39 % limit.",
    ]


def test_a_seat_outside_the_eu_is_named_and_an_unknown_seat_is_said_to_be_unknown() -> None:
    outside = ownership_test(graph([], {"op": "US"}), "op", EU)
    assert outside.explanation[0] == "OP has its seat in US (outside the EU)."
    unknown = ownership_test(graph([], {"op": ""}), "op", EU)
    assert not unknown.passed and not unknown.seat_in_eu
    assert unknown.explanation[0] == "OP has its seat in an unknown country (outside the EU)."
    assert unknown.lines[0].as_dict() == {"id": "{name} has its seat in an unknown country (outside the EU).",
                                          "params": {"name": "OP"}}
    missing = ownership_test(graph([], {}, names={}), "op", EU)  # not in the register's countries at all
    assert missing.explanation[0] == "op has its seat in an unknown country (outside the EU)."


def test_the_lines_are_the_explanation_as_message_ids_and_parameters() -> None:
    g = graph([("op", "us", 20.0, 20.0), ("op", "fr", 80.0, 80.0)], {"op": "FR", "us": "US", "fr": "FR"})
    result = ownership_test(g, "op", EU)
    assert [str(line) for line in result.lines] == result.explanation
    assert result.lines[1].as_dict() == {
        "id": "Largest non-EU holder: {holder} ({country}) with {capital_pct} of capital and {voting_pct} of voting"
              " rights, within the {limit_pct} limit.",
        "params": {"holder": "US", "country": "US", "capital_pct": 20.0, "voting_pct": 20.0, "limit_pct": 24.0}}


def test_an_entity_missing_from_the_names_is_called_by_its_id() -> None:
    g = graph([("op", "us-fund", 30.0, 30.0), ("op", "fr", 70.0, 70.0)], {"op": "FR", "us-fund": "US", "fr": "FR"},
              names={})
    result = ownership_test(g, "op", EU)
    assert result.explanation[0] == "op has its seat in FR (EU)."
    assert result.non_eu_single_max["name"] == "us-fund"


def test_a_holder_with_no_country_in_the_register_counts_as_non_eu_and_its_country_is_left_blank() -> None:
    g = graph([("op", "unknown", 30.0, 30.0), ("op", "fr", 70.0, 70.0)], {"op": "FR", "fr": "FR"})
    result = ownership_test(g, "op", EU)
    assert not result.passed
    assert result.non_eu_single_max["entity"] == "unknown"
    assert result.non_eu_single_max["country"] == ""


def test_percentages_in_sentences_drop_trailing_zeros_but_keep_decimals() -> None:
    assert str(Line("{a_pct} and {b_pct} and {c_pct}", {"a_pct": 30.0, "b_pct": 12.5, "c_pct": 0.25})) == \
        "30 % and 12.5 % and 0.25 %"


# --- the largest holder and the reported figures -------------------------------------------------------------


@pytest.mark.parametrize(("larger", "smaller"), [((20.0, 5.0), (10.0, 15.0)), ((5.0, 20.0), (15.0, 10.0))])
def test_the_largest_holder_is_the_one_with_the_largest_share_of_capital_or_votes(larger, smaller) -> None:
    g = graph([("op", "a-first", *smaller), ("op", "b-second", *larger), ("op", "fr", 75.0, 75.0)],
              {"op": "FR", "a-first": "US", "b-second": "CN", "fr": "FR"})
    assert ownership_test(g, "op", EU).non_eu_single_max["entity"] == "b-second"


def test_of_two_equal_largest_holders_the_first_by_id_is_named() -> None:
    g = graph([("op", "b", 20.0, 20.0), ("op", "a", 20.0, 20.0), ("op", "fr", 60.0, 60.0)],
              {"op": "FR", "a": "US", "b": "CN", "fr": "FR"})
    assert ownership_test(g, "op", EU).non_eu_single_max["entity"] == "a"


def split_holding() -> OwnershipGraph:
    """op (FR) ← 78.016 % jv (FR) ← 24.995 % us + 24.995 % cn (together 49.99 %: no control of jv): looked
    through, 19.5001 % each, together 39.0002 % — within the limits at the register's precision (0.001 %), above
    39 % at a finer one."""
    return graph([("op", "jv", 78.016, 78.016), ("op", "fr", 21.984, 21.984), ("jv", "us", 24.995, 24.995),
                  ("jv", "cn", 24.995, 24.995), ("jv", "de", 50.01, 50.01)],
                 {"op": "FR", "jv": "FR", "fr": "FR", "us": "US", "cn": "CN", "de": "DE"})


def test_totals_are_judged_and_reported_at_the_registers_precision() -> None:
    result = ownership_test(split_holding(), "op", EU)
    assert result.non_eu_total_capital == pytest.approx(39.0002)
    assert result.non_eu_total_voting == pytest.approx(39.0002)
    assert result.passed
    document = result.as_dict()
    assert (document["non_eu_total_capital"], document["non_eu_total_voting"]) == (39.0, 39.0)
    assert (document["non_eu_single_max"]["capital"], document["non_eu_single_max"]["voting"]) == (19.5, 19.5)


def test_fractional_totals_are_reported_with_their_decimals() -> None:
    g = graph([("op", "us", 12.345, 6.5), ("op", "fr", 87.655, 93.5)], {"op": "FR", "us": "US", "fr": "FR"})
    document = ownership_test(g, "op", EU).as_dict()
    assert (document["non_eu_total_capital"], document["non_eu_total_voting"]) == (12.345, 6.5)


# --- walking the register ---------------------------------------------------------------------------------------


def test_a_holder_listed_twice_for_one_entity_holds_the_sum() -> None:
    g = graph([("op", "us", 15.0, 15.0), ("op", "us", 10.0, 10.0), ("op", "fr", 75.0, 75.0)],
              {"op": "FR", "us": "US", "fr": "FR"})
    assert g.look_through("op", "capital")["us"] == pytest.approx(25.0)
    assert not ownership_test(g, "op", EU).passed


def test_a_holder_reached_through_two_intermediates_holds_the_sum_of_both_paths() -> None:
    # op ← 50 % a ← 30 % us ; op ← 50 % b ← 30 % us, and a second look at the same intermediate (memoised).
    g = graph([("op", "a", 50.0, 50.0), ("op", "b", 50.0, 50.0), ("a", "us", 30.0, 30.0), ("b", "us", 30.0, 30.0),
               ("a", "fr", 70.0, 70.0), ("b", "fr", 70.0, 70.0), ("fr", "us", 10.0, 10.0)],
              {"op": "FR", "a": "FR", "b": "FR", "fr": "FR", "us": "US"})
    capital = g.look_through("op", "capital")
    # 0.5·30 + 0.5·30 directly, plus 10 % of fr, which holds 0.5·70 + 0.5·70 = 70 %.
    assert capital["us"] == pytest.approx(30.0 + 7.0)
    assert capital["fr"] == pytest.approx(70.0)


def test_votes_of_a_controlled_intermediate_add_to_direct_foreign_votes() -> None:
    # op ← 20 % us directly, then ← 25 % jv (FR) which cn controls (60 % of its votes): together 45 % of votes.
    g = graph([("op", "us", 20.0, 20.0), ("op", "jv", 25.0, 25.0), ("op", "fr", 55.0, 55.0),
               ("jv", "cn", 60.0, 60.0), ("jv", "de", 40.0, 40.0)],
              {"op": "FR", "us": "US", "jv": "FR", "fr": "FR", "cn": "CN", "de": "DE"})
    result = ownership_test(g, "op", EU)
    assert result.non_eu_total_voting == pytest.approx(45.0)
    assert not result.passed


def test_a_register_adding_up_to_more_than_100_percent_is_read_as_100_percent_at_most() -> None:
    g = graph([("op", "us", 70.0, 70.0), ("op", "us", 60.0, 60.0)], {"op": "FR", "us": "US"})
    assert g.look_through("op", "capital") == {"us": 100.0}
    assert g.non_eu_total("op", "capital", lambda country: country in EU) == 100.0


def test_a_named_parent_without_shares_is_said_to_control() -> None:
    g = graph([("op", "group", 30.0, 60.0)], {"op": "FR", "group": "FR", "state": "FR"}, parents={"group": "state"})
    chain = g.control_chain("op")
    assert chain == [("op", "operator"), ("group", "30 % of capital and 60 % of votes held"),
                     ("state", "controlled")]


# --- cycles ------------------------------------------------------------------------------------------------------


def test_a_cycle_is_reported_from_its_first_entity_with_a_readable_message() -> None:
    g = graph([("b", "c", 60.0, 60.0), ("c", "a", 10.0, 10.0), ("a", "b", 50.0, 50.0)],
              {"a": "FR", "b": "FR", "c": "FR"})
    assert g.find_cycle() == ["a", "b", "c", "a"]
    with pytest.raises(OwnershipCycleError) as info:
        g.check_acyclic()
    assert str(info.value) == "ownership cycle: a → b → c → a"
    assert info.value.details == {"cycle": ["a", "b", "c", "a"]}


def test_a_cycle_above_the_first_entity_is_found() -> None:
    # a ← b ⇄ c: the cycle does not pass through a, where the search starts.
    g = graph([("a", "b", 60.0, 60.0), ("b", "c", 60.0, 60.0), ("c", "b", 60.0, 60.0)],
              {"a": "FR", "b": "FR", "c": "FR"})
    assert g.find_cycle() == ["b", "c", "b"]


def test_a_cycle_after_an_already_explored_entity_is_found() -> None:
    # a ← b ← x explored first (b again as a root), then the separate cycle c ⇄ d.
    g = graph([("a", "b", 60.0, 60.0), ("b", "x", 60.0, 60.0), ("c", "d", 60.0, 60.0), ("d", "c", 60.0, 60.0)],
              {"a": "FR", "b": "FR", "x": "FR", "c": "FR", "d": "FR"})
    assert g.find_cycle() == ["c", "d", "c"]


def test_a_cycle_of_named_parents_alone_is_found() -> None:
    g = graph([], {"a": "FR", "b": "FR"}, parents={"a": "b", "b": "a"})
    assert g.find_cycle() == ["a", "b", "a"]
    assert g.find_cycle_through("b") == ["b", "a", "b"]


def test_an_acyclic_register_has_no_cycle() -> None:
    g = graph([("a", "b", 60.0, 60.0), ("b", "c", 60.0, 60.0), ("a", "c", 10.0, 10.0)],
              {"a": "FR", "b": "FR", "c": "FR"}, parents={"c": "d"})
    assert g.find_cycle() is None
    assert g.find_cycle_through("a") is None


def test_the_cycle_through_an_entity_is_the_path_from_it_back_to_it() -> None:
    # x ⇄ y is a cycle of its own; the one through a is a ← b ← c ← a (c also held by d, a dead end).
    g = graph([("a", "b", 60.0, 60.0), ("b", "c", 60.0, 60.0), ("c", "a", 10.0, 10.0), ("c", "d", 5.0, 5.0),
               ("x", "y", 60.0, 60.0), ("y", "x", 60.0, 60.0)],
              {k: "FR" for k in "abcdxy"})
    assert g.find_cycle_through("a") == ["a", "b", "c", "a"]
    assert g.find_cycle_through("c") == ["c", "a", "b", "c"]
    assert g.find_cycle_through("d") is None


def test_a_cycle_through_an_entity_is_found_past_a_branch_that_leads_nowhere() -> None:
    # a is held by b (which leads back to a through c) and by z (a dead end with holders of its own).
    g = graph([("a", "b", 60.0, 60.0), ("a", "z", 10.0, 10.0), ("z", "w", 60.0, 60.0), ("b", "c", 60.0, 60.0),
               ("c", "a", 60.0, 60.0)],
              {k: "FR" for k in "abczw"})
    assert g.find_cycle_through("a") == ["a", "b", "c", "a"]


# --- Line.render: the portal's sentences in the reader's language -----------------------------------------------

FRENCH = {"{name} has its seat in {country} (EU).": "{name} a son siège en {country} (UE).",
          "{capital_pct} owned": "détenue à {capital_pct}"}
FORMATS = {"_pct": lambda value: f"{value:g} %".replace(".", ","), "country": lambda code: {"FR": "France"}[code]}


def translate(message_id: str) -> str:
    return FRENCH.get(message_id, message_id)


def test_a_line_is_rendered_in_the_readers_language_with_formatted_parameters() -> None:
    line = Line("{name} has its seat in {country} (EU).", {"name": "Nimbus", "country": "FR"}).as_dict()
    assert Line.render(line, translate, FORMATS) == "Nimbus a son siège en France (UE)."
    assert Line.render(Line("{capital_pct} owned", {"capital_pct": 12.5}).as_dict(), translate, FORMATS) == \
        "détenue à 12,5 %"


def test_a_line_whose_translation_does_not_fit_its_parameters_is_said_in_english() -> None:
    line = Line("{capital_pct} owned", {"capital_pct": 30.0}).as_dict()
    assert Line.render(line, lambda _: "détenue à {share}", FORMATS) == "30 % owned"
    assert Line.render(line, lambda _: "détenue à {0}", FORMATS) == "30 % owned"


def test_as_dict_copies_the_parameters() -> None:
    line = Line("{name}", {"name": "a"})
    data = line.as_dict()
    data["params"]["name"] = "b"
    assert str(line) == "a"
