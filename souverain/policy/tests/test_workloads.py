"""Workload descriptors (pure: no database): validation against the knowledge base, merging, resource tags."""

from __future__ import annotations

import pytest

from souverain.policy.workloads import WorkloadError, from_tags, merge, validate

LAWS = ("us-cloud-act", "us-fisa-702", "cn-national-intelligence-law")


def problems(raw, **known) -> list[str]:
    with pytest.raises(WorkloadError) as raised:
        validate(raw, known_laws=known.get("laws", LAWS), known_packs=known.get("packs"))
    return raised.value.problems


def test_an_unknown_law_id_is_an_error_naming_the_field_and_the_known_ids():
    [problem] = problems({"requirements": {"no_exposure_to": ["us-cloud-act", "us-clud-act"]}})
    assert problem.startswith("requirements.no_exposure_to.1: unknown law 'us-clud-act'")
    assert "us-cloud-act" in problem.split("unknown law", 1)[1]  # the known ids, to correct the typo


def test_known_law_ids_pass():
    validate({"requirements": {"no_exposure_to": list(LAWS)}}, known_laws=LAWS)


def test_an_unknown_requirement_name_is_an_error_naming_it():
    [problem] = problems({"requirements": {"no_foriegn_law": True}})
    assert problem.startswith("requirements.no_foriegn_law: unknown requirement")
    assert "no_foreign_law" in problem


def test_an_unknown_data_class_is_an_error_naming_the_field():
    [problem] = problems({"data_classes": ["public", "secret"]})
    assert problem.startswith("data_classes.1: unknown data class 'secret'")


def test_an_unknown_pack_is_an_error_when_the_caller_knows_the_packs():
    [problem] = problems({"requirements": {"packs": ["hsd"]}}, packs=("hds", "eucs"))
    assert problem.startswith("requirements.packs.0: unknown pack 'hsd'")


def test_an_unknown_tenant_category_is_an_error():
    [problem] = problems({"tenant_category": "ministry"})
    assert problem.startswith("tenant_category: unknown tenant category 'ministry'")


def test_no_foreign_law_is_a_boolean_requirement_that_merges_like_the_others():
    validate({"requirements": {"no_foreign_law": True}}, known_laws=LAWS)
    merged = merge([{"requirements": {"no_foreign_law": True}}, {"requirements": {"no_foreign_law": False}}])
    assert merged["requirements"]["no_foreign_law"] is True
    assert merge([{}])["requirements"]["no_foreign_law"] is False


def test_the_tenant_category_comes_from_the_tenant_layer_and_defaults_to_private():
    assert merge([{"data_classes": ["public"]}])["tenant_category"] == "private"
    tenant = {"tenant": "dinum", "tenant_category": "state_administration"}
    assert merge([tenant, {"data_classes": ["diffusion_restreinte"]}])["tenant_category"] == "state_administration"
    assert merge([tenant, {"tenant_category": "state_administration"}])["tenant_category"] == "state_administration"


def test_a_request_cannot_change_its_tenant_s_category():
    tenant = {"tenant": "dinum", "tenant_category": "state_administration"}
    with pytest.raises(WorkloadError) as raised:
        merge([tenant, {"tenant_category": "private"}])
    assert raised.value.problems == [
        "tenant_category: 'private' differs from the category of tenant 'dinum' (state_administration)"]


def test_tags_read_no_foreign_law_and_human_spellings_of_classes():
    layer = from_tags({"souverain:classes": "Diffusion Restreinte, health", "souverain:no_foreign_law": "true"})
    assert layer["data_classes"] == ["diffusion_restreinte", "health"]
    assert layer["requirements"]["no_foreign_law"] is True


def test_an_unknown_class_in_tags_is_kept_as_an_unknown_label_not_dropped():
    merged = merge([from_tags({"souverain:classes": "health,top-secret"})])
    assert merged["data_classes"] == ["health"]
    assert merged["unknown_labels"] == [{"field": "data_classes", "value": "top-secret"}]


def test_an_unknown_class_in_a_tenant_s_defaults_is_an_unknown_label_too():
    merged = merge([{"tenant": "t", "data_classes": ["diffusion-restreinte", "sekret"]}, {}])
    assert merged["data_classes"] == ["diffusion_restreinte"]
    assert merged["unknown_labels"] == [{"field": "data_classes", "value": "sekret"}]
    assert merge([{"data_classes": ["public"]}])["unknown_labels"] == []


def test_an_unknown_requirement_in_a_tenant_s_defaults_is_an_unknown_label_not_ignored():
    merged = merge([{"tenant": "t", "requirements": {"no_foriegn_law": True, "eu_only": True}}, {}])
    assert merged["requirements"]["eu_only"] is True
    assert merged["unknown_labels"] == [{"field": "requirements", "value": "no_foriegn_law"}]
