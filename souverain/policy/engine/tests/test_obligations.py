"""Obligation vs doctrine through the engine: a denial rests on a text that binds THIS tenant; otherwise a warning.

The same region and the same data, decided for tenants of different legal categories (issue 10, item 1), and
the workload's own "no foreign law" requirement (item 2). Both languages of every entry (the packs' French).
"""

from __future__ import annotations

import re

import pytest

from souverain.policy.engine import Engine, applicable_packs, load_packs_config

from .documents import document, huawei_region, sovereign_region, workload


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def for_tenant(category: str, *classes: str, **requirements) -> dict:
    described = workload(*classes, **requirements)
    described["tenant_category"] = category
    return described


def rules(entries: list[dict]) -> set[str]:
    return {e["rule"] for e in entries}


def us_parent_region() -> dict:
    """A French region whose operator has a US parent: exposed to the CLOUD Act through legal control only."""
    region = sovereign_region()
    region["exposure"] = [{
        "law": "us-cloud-act", "law_name": "US CLOUD Act", "country": "US", "channel": "legal_control",
        "strength": "compelled", "explanation": "Region fr-paris-1 ← operator Sovereign SAS ← parent US Corp (US)",
    }]
    return region


SECNUMCLOUD_FINDINGS = {"secnumcloud.vendor_access", "secnumcloud.qualification"}


@pytest.mark.parametrize("category", ["state_administration", "public_body"])
def test_restricted_data_of_state_bodies_is_denied_on_the_chinese_stack(engine, category):
    decision = engine.decide(document(for_tenant(category, "diffusion_restreinte"), huawei_region()))
    assert SECNUMCLOUD_FINDINGS | {"extraterritorial.compelled_exposure"} <= rules(decision.deny)
    vendor = next(d for d in decision.deny if d["rule"] == "secnumcloud.vendor_access")
    assert "State administrations and public bodies" in vendor["binds"]
    assert "6282/SG" in vendor["source"] and "SREN" in vendor["source"]


@pytest.mark.parametrize("category", ["private", "critical_operator", "regulated_finance"])
def test_the_same_data_and_region_only_warn_for_other_tenants(engine, category):
    decision = engine.decide(document(for_tenant(category, "diffusion_restreinte"), huawei_region()))
    assert decision.allowed, decision.deny
    assert SECNUMCLOUD_FINDINGS | {"extraterritorial.compelled_exposure"} <= rules(decision.warn)
    vendor = next(w for w in decision.warn if w["rule"] == "secnumcloud.vendor_access")
    assert "Recommended, not required" in vendor["message"]
    assert "Recommandation, non obligation" in vendor["message_fr"]


def test_an_explicit_secnumcloud_requirement_binds_a_private_company(engine):
    decision = engine.decide(document(for_tenant("private", "internal", secnumcloud=True), huawei_region()))
    assert SECNUMCLOUD_FINDINGS <= rules(decision.deny)
    assert all("requires SecNumCloud" in d["binds"] for d in decision.deny if d["rule"].startswith("secnumcloud."))


def test_a_data_label_alone_does_not_make_the_obligation(engine):
    """A workload without a category is a private company's: its label warns, it does not deny."""
    described = workload("diffusion_restreinte")
    del described["tenant_category"]
    decision = engine.decide(document(described, huawei_region()))
    assert decision.allowed and SECNUMCLOUD_FINDINGS <= rules(decision.warn)


@pytest.mark.parametrize("category", ["regulated_health", "state_administration", "private"])
def test_health_data_exposed_through_the_control_chain_only_warns(engine, category):
    decision = engine.decide(document(for_tenant(category, "health"), us_parent_region()))
    assert decision.allowed, decision.deny
    [warning] = [w for w in decision.warn if w["rule"] == "extraterritorial.compelled_exposure"]
    assert "not by itself an unlawful transfer" in warning["message"]
    assert "EDPB guidelines 05/2021" in warning["source"]


@pytest.mark.parametrize("requirement", [{"no_foreign_law": True}, {"no_exposure_to": ["us-cloud-act"]}])
def test_health_data_exposed_through_the_control_chain_is_denied_when_the_workload_excludes_it(engine, requirement):
    decision = engine.decide(document(for_tenant("regulated_health", "health", **requirement), us_parent_region()))
    assert rules(decision.deny) == {"extraterritorial.compelled_exposure"}
    assert "this tenant" in decision.deny[0]["binds"]


def test_health_data_still_needs_an_hds_certificate_and_eea_hosting_whoever_the_tenant(engine):
    for category in ("private", "state_administration"):
        decision = engine.decide(document(for_tenant(category, "health"), huawei_region()))
        assert "hds.certificate" in rules(decision.deny)


def test_no_foreign_law_covers_a_law_the_knowledge_base_gains_later(engine):
    region = us_parent_region()
    region["exposure"][0].update(law="xx-new-act", law_name="New Surveillance Act", country="XX")
    doc = document(for_tenant("private", "internal", no_foreign_law=True), region)
    assert engine.decide(doc).allowed  # the knowledge base does not know the law yet: nothing to hold against
    doc["kb"]["laws"].append({"id": "xx-new-act", "country": "XX"})
    assert rules(engine.decide(doc).deny) == {"extraterritorial.compelled_exposure"}


def test_no_foreign_law_turns_the_extraterritorial_pack_on():
    assert "extraterritorial" in applicable_packs(workload("public", no_foreign_law=True), load_packs_config())


INTERNAL_CODE = re.compile(r"\b(legal_control|data_location|supply_chain|remote_support|software_supply|"
                           r"diffusion_restreinte|special_category|critical_operator|high_plus|external_hsm)\b")


@pytest.mark.parametrize("category", ["state_administration", "private"])
def test_every_entry_has_both_languages_whom_it_binds_and_no_internal_code(engine, category):
    region = huawei_region()
    region["key_custody"] = {"holder": "external_hsm", "country": None}
    described = for_tenant(category, "diffusion_restreinte", "health", "special_category", "critical_operator",
                           eu_only=True, customer_held_keys=True, eucs_level="high_plus")
    decision = engine.decide(document(described, region))
    entries = decision.deny + decision.warn
    assert len(rules(entries)) >= 10
    for entry in entries:
        for key in ("message", "message_fr", "source", "source_fr", "binds", "binds_fr"):
            assert isinstance(entry[key], str) and entry[key].strip(), (entry["rule"], key)
        for key in ("message", "message_fr"):
            assert not INTERNAL_CODE.search(entry[key]), (entry["rule"], entry[key])
            assert "{" not in entry[key] and "[" not in entry[key], (entry["rule"], entry[key])
        assert entry["message_fr"] != entry["message"], entry["rule"]
