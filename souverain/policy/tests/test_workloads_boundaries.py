"""Workload descriptors at their edges (pure: no database), found by mutation testing
(docs/development/mutation-testing.md).

Merging may only make a workload stricter: booleans OR-ed whichever layer sets them, lists united, allowed
countries intersected (an empty list is no restriction, not "nowhere"), the highest EUCS level kept in either
order; the last layer that names something wins for the name, tenant, and a safeguard of the same country and
mechanism; preferences keep their first order without repeats. Tags read only an explicit yes. Errors name the
field, the unknown value and the known ones, every problem at once.
"""

from __future__ import annotations

import pytest

from souverain.policy.workloads import (
    BOOLEAN_REQUIREMENTS,
    DATA_CLASSES,
    EUCS_LEVELS,
    WorkloadError,
    data_class,
    decision_attributes,
    empty_requirements,
    from_tags,
    merge,
    validate,
)
from souverain.tenancy.categories import TENANT_CATEGORIES


def problems(raw, **known) -> list[str]:
    with pytest.raises(WorkloadError) as raised:
        validate(raw, **known)
    assert str(raised.value) == "invalid workload: " + "; ".join(raised.value.problems)
    return raised.value.problems


# --- merge -------------------------------------------------------------------------------------------------------


def test_an_empty_merge_is_the_least_strict_workload() -> None:
    assert merge([]) == {
        "name": "", "tenant": None, "tenant_category": "private", "data_classes": [], "unknown_labels": [],
        "requirements": {"secnumcloud": False, "eu_only": False, "customer_held_keys": False,
                         "no_foreign_law": False, "no_exposure_to": [], "packs": [], "allowed_countries": [],
                         "eucs_level": None},
        "safeguards": [], "preferences": {"regions": []}}
    assert empty_requirements() == merge([])["requirements"]


@pytest.mark.parametrize("flag", BOOLEAN_REQUIREMENTS)
def test_a_boolean_requirement_set_by_any_layer_stays_set(flag: str) -> None:
    for layers in ([{"requirements": {flag: True}}, {}], [{}, {"requirements": {flag: True}}],
                   [{"requirements": {flag: True}}, {"requirements": {flag: False}}]):
        merged = merge(layers)["requirements"]
        assert merged[flag] is True
        assert [other for other in BOOLEAN_REQUIREMENTS if merged[other]] == [flag]


def test_list_requirements_are_united_sorted_and_without_repeats() -> None:
    merged = merge([{"requirements": {"no_exposure_to": ["us-fisa-702", "us-cloud-act"], "packs": ["hds"]}},
                    {"requirements": {"no_exposure_to": ["us-cloud-act", "cn-nil"]}},
                    {"requirements": {"packs": ["eucs", "hds"]}}])["requirements"]
    assert merged["no_exposure_to"] == ["cn-nil", "us-cloud-act", "us-fisa-702"]
    assert merged["packs"] == ["eucs", "hds"]


def test_allowed_countries_are_narrowed_by_each_layer_that_names_some() -> None:
    merged = merge([{"requirements": {"allowed_countries": ["FR", "DE", "BE"]}},
                    {"requirements": {"allowed_countries": []}},  # names none: no restriction of its own
                    {},
                    {"requirements": {"allowed_countries": ["DE", "FR", "IT"]}}])
    assert merged["requirements"]["allowed_countries"] == ["DE", "FR"]
    assert merge([{"requirements": {"allowed_countries": ["FR"]}}, {"requirements": {"allowed_countries": ["DE"]}}]) \
        ["requirements"]["allowed_countries"] == []  # nowhere left: the placement finds no region
    assert merge([{}, {"requirements": {"allowed_countries": ["FR", "BE"]}}])["requirements"]["allowed_countries"] \
        == ["BE", "FR"]


@pytest.mark.parametrize(("first", "second", "kept"), [
    ("basic", "high", "high"), ("high", "basic", "high"), ("substantial", "high_plus", "high_plus"),
    ("high_plus", "substantial", "high_plus"), (None, "basic", "basic"), ("substantial", None, "substantial"),
])
def test_the_highest_eucs_level_of_any_layer_is_kept(first, second, kept) -> None:
    layers = [{"requirements": {"eucs_level": level}} for level in (first, second)]
    assert merge(layers)["requirements"]["eucs_level"] == kept
    assert EUCS_LEVELS == ("basic", "substantial", "high", "high_plus")


def test_the_last_layer_naming_a_workload_or_tenant_wins_and_empty_names_are_ignored() -> None:
    merged = merge([{"name": "defaults", "tenant": "acme"}, {"name": "web"}, {"name": "", "tenant": None}])
    assert (merged["name"], merged["tenant"]) == ("web", "acme")
    assert merge([{"tenant": "acme"}, {"tenant": "globex"}])["tenant"] == "globex"


def test_a_category_stated_twice_alike_is_kept_and_another_layer_without_one_does_not_reset_it() -> None:
    merged = merge([{"tenant": "t", "tenant_category": "public_body"}, {"tenant_category": "public_body"}, {}])
    assert merged["tenant_category"] == "public_body"
    with pytest.raises(WorkloadError) as raised:
        merge([{"tenant_category": "public_body"}, {"tenant_category": "private"}])
    assert raised.value.problems == ["tenant_category: 'private' differs from the category of tenant None "
                                     "(public_body)"]


def test_a_safeguard_for_the_same_country_and_mechanism_is_replaced_others_are_kept_in_order() -> None:
    merged = merge([{"safeguards": [{"country": "US", "mechanism": "scc", "note": "tenant"},
                                    {"country": "GB", "mechanism": "bcr"}]},
                    {"safeguards": [{"country": "US", "mechanism": "scc", "note": "project"},
                                    {"country": "US", "mechanism": "bcr"}]}])
    assert merged["safeguards"] == [{"country": "GB", "mechanism": "bcr"}, {"country": "US", "mechanism": "bcr"},
                                    {"country": "US", "mechanism": "scc", "note": "project"}]


def test_a_merged_safeguard_is_a_copy_of_the_layers() -> None:
    guard = {"country": "US", "mechanism": "scc"}
    merge([{"safeguards": [guard]}])["safeguards"][0]["mechanism"] = "bcr"
    assert guard == {"country": "US", "mechanism": "scc"}


def test_preferred_regions_keep_their_first_order_without_repeats() -> None:
    merged = merge([{"preferences": {"regions": ["a/1", "b/1"]}}, {"preferences": {}}, {"preferences": None},
                    {"preferences": {"regions": ["c/1", "a/1", "b/1", "d/1"]}}])
    assert merged["preferences"] == {"regions": ["a/1", "b/1", "c/1", "d/1"]}


def test_classes_are_united_across_layers_in_any_spelling() -> None:
    merged = merge([{"data_classes": ["Health"]}, {"data_classes": None},
                    {"data_classes": [" personal ", "health", "Critical-Operator"]}])
    assert merged["data_classes"] == ["critical_operator", "health", "personal"]


def test_unknown_labels_are_reported_once_each_sorted_by_field_then_value() -> None:
    merged = merge([{"data_classes": ["zeta", "alpha"], "requirements": {"strict": True}},
                    {"data_classes": ["alpha"], "requirements": {"strict": True, "eu_only": True}}])
    assert merged["unknown_labels"] == [{"field": "data_classes", "value": "alpha"},
                                        {"field": "data_classes", "value": "zeta"},
                                        {"field": "requirements", "value": "strict"}]


def test_data_class_spellings() -> None:
    assert data_class("  Diffusion - Restreinte ") == "diffusion_restreinte"
    assert data_class("special category") == "special_category"
    assert data_class("HEALTH") == "health"
    assert all(data_class(name) == name for name in DATA_CLASSES)


# --- tags --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("yes", ["1", "true", "True", "YES", "yes"])
def test_a_tag_sets_a_requirement_only_when_it_says_yes(yes: str) -> None:
    for flag in BOOLEAN_REQUIREMENTS:
        assert from_tags({f"souverain:{flag}": yes})["requirements"] == {flag: True}


@pytest.mark.parametrize("no", ["0", "false", "no", "", "y", "on"])
def test_any_other_tag_value_sets_nothing(no: str) -> None:
    tags = {f"souverain:{flag}": no for flag in BOOLEAN_REQUIREMENTS}
    assert from_tags(tags) == {"requirements": {}, "data_classes": []}


def test_tags_name_laws_to_avoid_trimmed_without_empty_names() -> None:
    layer = from_tags({"souverain:no_exposure_to": " us-cloud-act , ,cn-nil,"})
    assert layer["requirements"]["no_exposure_to"] == ["us-cloud-act", "cn-nil"]
    assert "no_exposure_to" not in from_tags({"souverain:no_exposure_to": ""})["requirements"]


def test_class_tags_are_split_on_commas_trimmed_and_empty_ones_dropped() -> None:
    layer = from_tags({"souverain:classes": " Health ,, personal,Top Secret ,"})
    assert layer["data_classes"] == ["health", "personal", "Top Secret"]
    assert from_tags({})["data_classes"] == []


def test_tags_and_defaults_merge_into_a_stricter_workload() -> None:
    merged = merge([{"tenant": "t", "data_classes": ["internal"]},
                    from_tags({"souverain:classes": "health", "souverain:eu_only": "yes"})])
    assert merged["data_classes"] == ["health", "internal"]
    assert merged["requirements"]["eu_only"] is True


# --- what a decision depends on ------------------------------------------------------------------------------------


def test_decision_attributes_leave_out_the_name_tenant_and_preferences() -> None:
    workload = merge([{"name": "web", "tenant": "t", "tenant_category": "public_body", "data_classes": ["health"],
                       "requirements": {"eu_only": True, "strict": True},
                       "safeguards": [{"country": "US", "mechanism": "scc"}],
                       "preferences": {"regions": ["a/1"]}}])
    assert decision_attributes(workload) == {
        "tenant_category": "public_body", "data_classes": ["health"],
        "unknown_labels": [{"field": "requirements", "value": "strict"}],
        "requirements": workload["requirements"], "safeguards": [{"country": "US", "mechanism": "scc"}]}


def test_decision_attributes_of_a_bare_workload_default_the_category_and_labels() -> None:
    bare = {"data_classes": [], "requirements": empty_requirements(), "safeguards": []}
    assert decision_attributes(bare) == {"tenant_category": "private", "data_classes": [], "unknown_labels": [],
                                         "requirements": empty_requirements(), "safeguards": []}


# --- validate -------------------------------------------------------------------------------------------------------


def test_a_complete_valid_workload_passes() -> None:
    validate({"name": "web", "tenant": None, "tenant_category": "public_body", "data_classes": list(DATA_CLASSES),
              "requirements": {**{flag: True for flag in BOOLEAN_REQUIREMENTS}, "no_exposure_to": ["l"],
                               "packs": ["p"], "allowed_countries": ["FR"], "eucs_level": "high"},
              "safeguards": [{"country": "*", "mechanism": "scc"}], "preferences": {"regions": ["a/1"]},
              "size": {"vcpu": 0, "ram_mb": 0, "disk_gb": 0, "count": 1}},
             known_laws=["l"], known_packs=["p"])
    for category in TENANT_CATEGORIES:
        validate({"tenant_category": category})


def test_an_unknown_top_level_field_names_the_known_fields() -> None:
    assert problems({"nmae": "web"}) == [
        "nmae: unknown workload field (known: name, tenant, tenant_category, data_classes, requirements, "
        "safeguards, preferences, size)"]


def test_unknown_fields_in_nested_objects_are_named_by_their_kind() -> None:
    assert problems({"preferences": {"region": []}, "size": {"cpu": 2}}) == [
        "preferences.region: unknown preference (known: regions)",
        "size.cpu: unknown size field (known: vcpu, ram_mb, disk_gb, count)"]
    assert problems({"safeguards": [{"country": "US", "mechanism": "scc", "until": "2027"}]}) == [
        "safeguards.0.until: unknown safeguard field (known: country, mechanism)"]


def test_every_unknown_requirement_is_named_once_sorted() -> None:
    assert problems({"requirements": {"zz": 1, "aa": 2, "eu_only": True}}) == [
        "requirements.aa: unknown requirement (known: secnumcloud, eu_only, customer_held_keys, no_foreign_law, "
        "no_exposure_to, packs, allowed_countries, eucs_level)",
        "requirements.zz: unknown requirement (known: secnumcloud, eu_only, customer_held_keys, no_foreign_law, "
        "no_exposure_to, packs, allowed_countries, eucs_level)"]


def test_unknown_enum_values_say_what_they_are_and_what_is_known() -> None:
    assert problems({"requirements": {"eucs_level": "extreme"}}) == [
        "requirements.eucs_level: unknown EUCS level 'extreme' (known: basic, substantial, high, high_plus)"]
    assert problems({"safeguards": [{"country": "US", "mechanism": "dpa"}]}) == [
        "safeguards.0.mechanism: unknown safeguard mechanism 'dpa' (known: scc, bcr, derogation)"]
    assert problems({"tenant_category": "ministry"}) == [
        "tenant_category: unknown tenant category 'ministry' (known: " + ", ".join(TENANT_CATEGORIES) + ")"]


def test_other_schema_errors_name_their_field_or_the_workload() -> None:
    assert problems({"requirements": {"eu_only": "yes"}}) == ["requirements.eu_only: 'yes' is not of type 'boolean'"]
    assert problems({"requirements": {"allowed_countries": ["fr"]}}) == [
        "requirements.allowed_countries.0: 'fr' does not match '^[A-Z]{2}$'"]
    assert problems({"size": {"count": 0}}) == ["size.count: 0 is less than the minimum of 1"]
    assert problems({"safeguards": [{"country": "US"}]}) == ["safeguards.0: 'mechanism' is a required property"]


def test_every_problem_is_reported_at_once_in_field_order() -> None:
    assert problems({"tenant_category": "ministry", "data_classes": ["secret"],
                     "requirements": {"no_exposure_to": ["us-clud-act", 3], "packs": ["hsd", "hds"]}},
                    known_laws=["us-cloud-act", "cn-nil"], known_packs=["hds", "eucs"]) == [
        "data_classes.0: unknown data class 'secret' (known: " + ", ".join(DATA_CLASSES) + ")",
        "requirements.no_exposure_to.1: 3 is not of type 'string'",
        "tenant_category: unknown tenant category 'ministry' (known: " + ", ".join(TENANT_CATEGORIES) + ")",
        "requirements.no_exposure_to.0: unknown law 'us-clud-act' (known: cn-nil, us-cloud-act)",
        "requirements.packs.0: unknown pack 'hsd' (known: eucs, hds)"]


def test_law_and_pack_ids_are_checked_only_against_what_the_caller_knows() -> None:
    validate({"requirements": {"no_exposure_to": ["anything"], "packs": ["whatever"]}})
    validate({"requirements": {"no_exposure_to": ["us-cloud-act"], "packs": ["whatever"]}},
             known_laws=["us-cloud-act"])
    assert problems({"requirements": {"packs": ["whatever"]}}, known_laws=[], known_packs=[]) == [
        "requirements.packs.0: unknown pack 'whatever' (known: )"]


def test_law_ids_are_checked_even_when_the_requirements_are_otherwise_invalid() -> None:
    assert problems({"requirements": {"no_exposure_to": ["x"], "eu_only": "no"}}, known_laws=["l"]) == [
        "requirements.eu_only: 'no' is not of type 'boolean'",
        "requirements.no_exposure_to.0: unknown law 'x' (known: l)"]


def test_the_size_is_the_last_layers_that_states_one_and_no_decision_input() -> None:
    assert "size" not in merge([{"name": "web"}, {}])
    merged = merge([{"size": {"vcpu": 2, "count": 1}}, {"size": {"vcpu": 4, "ram_mb": 8192}}, {}, {"size": {}}])
    assert merged["size"] == {"vcpu": 4, "ram_mb": 8192}
    asked = {"vcpu": 2}
    merge([{"size": asked}])["size"]["vcpu"] = 64
    assert asked == {"vcpu": 2}
    assert "size" not in decision_attributes(merged)


def test_a_schema_error_on_a_field_with_named_values_is_not_read_as_an_unknown_value() -> None:
    assert problems({"data_classes": "health"}) == ["data_classes: 'health' is not of type 'array'"]
    assert problems({"data_classes": ["health", "health"]}) == [
        "data_classes: ['health', 'health'] has non-unique elements"]
