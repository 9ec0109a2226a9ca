"""Exposure, channel by channel, on a small estate built for the purpose and a knowledge base of made-up laws
(pure: no database, no packaged data), found by mutation testing (docs/development/mutation-testing.md).

The estate: cloud "Nimbus Cloud", operated by Nimbus France (FR), 100 % owned by Nimbus Inc (US), itself
controlled by Nimbus Holding (US: a second US entity adds no second path); data in Paris (operated by the cloud's
own operator: no facility path) and London (a facility operator the register does not know), backed up to Ashburn
(Colo Corp, US, no city); admin staff in India and France, support staff in the United States; a stack vendor
with remote support access (US); hardware from HW Netherlands, owned through an unregistered holding company by
HW China; a hardware vendor missing from the register (ignored). A second cloud, "Local", has only a software
supplier. The laws say which channel reaches, and how strongly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from souverain.estate.exposure import region_profile, sovereignty_level
from souverain.estate.ownership import Holding
from souverain.estate.snapshot import (
    CertificationData,
    CloudData,
    DatacenterData,
    EntityData,
    EstateData,
    RegionData,
)
from souverain.sovereignty.kb import KnowledgeBase, LawInfo

ON = dt.date(2026, 11, 25)


def law(slug: str, country: str, **channels: dict[str, Any]) -> LawInfo:
    return LawInfo(slug=slug, name=slug.upper(), country=country, citation=f"{slug} §1", channels=channels,
                   source={"url": f"https://law.example/{slug}"})


KB = KnowledgeBase(
    eu_countries=frozenset({"FR", "NL", "DE"}), eea_countries=frozenset({"FR", "NL", "DE", "NO"}),
    country_names={"FR": "France", "US": "United States", "CN": "China", "IN": "India", "NL": "Netherlands",
                   "DE": "Germany", "GB": "United Kingdom", "RU": "Russia"},
    adequacy=(),
    laws=(
        law("us-law", "US", legal_control={"strength": "compelled", "inference": True},
            data_location={"strength": "informational"}, access={"strength": "compelled"},
            supply_chain={"strength": "informational"}),
        law("cn-law", "CN", supply_chain={"strength": "informational"}),
        law("in-law", "IN", access={"strength": "compelled"}),
        law("fr-law", "FR", legal_control={"strength": "compelled"}),
        law("gb-law", "GB", data_location={"strength": "compelled"}, satellite={"strength": "compelled"}),
        law("ru-law", "RU", legal_control={"strength": "compelled"}, access={"strength": "compelled"},
            satellite={"strength": "compelled"}),
        law("de-law", "DE"),
    ))


def estate() -> EstateData:
    entities = {e.id: e for e in [
        EntityData("nimbus-fr", "Nimbus France", "FR"),
        EntityData("nimbus-inc", "Nimbus Inc", "US", dpf_certified=True, dpf_since=dt.date(2024, 1, 1)),
        EntityData("nimbus-holding", "Nimbus Holding", "US"),
        EntityData("colo", "Colo Corp", "US"),
        EntityData("stackco", "StackCo", "US"),
        EntityData("hw-nl", "HW Netherlands", "NL"),
        EntityData("hw-cn", "HW China", "CN"),
        EntityData("local-op", "Local Operator", "DE"),
    ]}
    holdings = [Holding("nimbus-fr", "nimbus-inc", 100.0, 100.0),
                Holding("nimbus-inc", "nimbus-holding", 40.0, 60.0),
                Holding("hw-nl", "hw-holdco", 100.0, 100.0), Holding("hw-holdco", "hw-cn", 100.0, 100.0)]
    datacenters = {d.id: d for d in [DatacenterData("dc-par", "Paris 1", "nimbus-fr", "FR", city="Paris"),
                                     DatacenterData("dc-ash", "Ashburn", "colo", "US"),
                                     DatacenterData("dc-lon", "London", "ghost-op", "GB", city="London"),
                                     DatacenterData("dc-fra", "Frankfurt", "local-op", "DE", city="Frankfurt")]}
    cert = CertificationData("secnumcloud", "3.2", "", "IaaS", dt.date(2024, 1, 1), ON, "https://cert.example/1")
    region_cert = CertificationData("hds", "2", "high", "hosting", dt.date(2025, 1, 1), None, "", region="eu-west")
    region = RegionData("eu-west", "EU West", datacenters=["dc-par", "dc-lon"], backup_datacenters=["dc-ash"],
                        certifications=[region_cert])
    nimbus = CloudData("nimbus", "Nimbus Cloud", "hyperscaler", "nimbus-fr", stack_vendor="stackco",
                       vendor_access="remote_support", stack_distribution="StackOS 9",
                       hardware_vendors=["hw-nl", "missing-vendor"], admin_staff_countries=["IN", "FR"],
                       support_staff_countries=["US"], key_custody="customer", key_custody_country="FR",
                       certifications=[cert], regions={"eu-west": region})
    local = CloudData("local", "Local", "openstack", "local-op", stack_vendor="stackco",
                      vendor_access="software_supply",
                      regions={"de": RegionData("de", "DE", datacenters=["dc-fra"])})
    return EstateData(entities=entities, holdings=holdings, datacenters=datacenters,
                      clouds={"nimbus": nimbus, "local": local})


# Computed for each test (a few milliseconds), not once per module: mutmut runs against a mutant only the tests
# that called the mutated function, and a module-scoped result would be "called" by the first test alone.
@pytest.fixture
def nimbus() -> dict[str, Any]:
    return region_profile(estate(), "nimbus", "eu-west", KB, ON)


@pytest.fixture
def local() -> dict[str, Any]:
    return region_profile(estate(), "local", "de", KB, ON)


def hits(profile: dict[str, Any], law_slug: str) -> list[tuple[str, str, str, dict]]:
    return [(e["channel"], e["strength"], e["explanation"], e["facts"]) for e in profile["exposure"]
            if e["law"] == law_slug]


# --- each channel -------------------------------------------------------------------------------------------------


def test_legal_control_follows_the_operators_control_chain_once_per_country(nimbus) -> None:
    assert [h for h in hits(nimbus, "us-law") if h[0] == "legal_control"] == [
        ("legal_control", "compelled",
         "Region nimbus/eu-west ← cloud Nimbus Cloud operated by Nimbus France (FR) ← 100 % owned by Nimbus Inc (US)"
         " → US-LAW",
         {"entity": "nimbus-inc", "country": "US", "depth": 1})]
    # A law of the operator's own country reaches it at the start of the chain.
    assert hits(nimbus, "fr-law") == [
        ("legal_control", "compelled", "Region nimbus/eu-west ← cloud Nimbus Cloud operated by Nimbus France (FR)"
         " → FR-LAW", {"entity": "nimbus-fr", "country": "FR", "depth": 0})]


def test_data_location_names_primary_and_backup_sites_with_their_city_when_known(nimbus) -> None:
    assert hits(nimbus, "gb-law") == [
        ("data_location", "compelled", "Region nimbus/eu-west stores its data in London (London, GB) → GB-LAW",
         {"datacenter": "dc-lon", "role": "primary", "country": "GB"})]
    assert [h for h in hits(nimbus, "us-law") if h[0] == "data_location"] == [
        ("data_location", "informational", "Region nimbus/eu-west backs up its data to Ashburn (US) → US-LAW",
         {"datacenter": "dc-ash", "role": "backup", "country": "US"})]


def test_access_by_staff_facility_operators_and_a_vendor_with_access(nimbus) -> None:
    assert [h for h in hits(nimbus, "us-law") if h[0] == "access"] == [
        ("access", "compelled", "Region nimbus/eu-west backs up its data to Ashburn (US) ← facility operated by"
         " Colo Corp (US), with physical access to the equipment → US-LAW",
         {"datacenter": "dc-ash", "role": "backup", "facility_operator": "colo", "entity": "colo", "country": "US",
          "depth": 0}),
        ("access", "compelled", "Region nimbus/eu-west is supported by support staff in United States (US) → US-LAW",
         {"staff": "support", "country": "US"}),
        ("access", "compelled", "Region nimbus/eu-west ← cloud Nimbus Cloud runs on stack vendor StackCo (US)"
         " (StackOS 9) ← has remote support access → US-LAW",
         {"vendor": "stackco", "vendor_access": "remote_support", "entity": "stackco", "country": "US", "depth": 0})]
    assert hits(nimbus, "in-law") == [
        ("access", "compelled", "Region nimbus/eu-west is administered by admin staff in India (IN) → IN-LAW",
         {"staff": "admin", "country": "IN"})]


def test_a_site_run_by_the_clouds_operator_or_an_unregistered_one_adds_no_facility_path(nimbus) -> None:
    facility = [e for e in nimbus["exposure"] if "facility_operator" in e["facts"]]
    assert [e["facts"]["facility_operator"] for e in facility] == ["colo"]


def test_supply_chain_reaches_through_an_unregistered_holding_company(nimbus) -> None:
    assert hits(nimbus, "cn-law") == [
        ("supply_chain", "informational", "Region nimbus/eu-west ← cloud Nimbus Cloud uses hardware from HW"
         " Netherlands (NL) ← 100 % owned by hw-holdco ← 100 % owned by HW China (CN) → CN-LAW",
         {"hardware_vendor": "hw-nl", "entity": "hw-cn", "country": "CN", "depth": 2})]


def test_a_vendor_without_access_is_supply_chain_and_says_what_it_supplies(local) -> None:
    assert hits(local, "us-law") == [
        ("supply_chain", "informational", "Region local/de ← cloud Local runs on stack vendor StackCo (US) (stack)"
         " ← supplies the software (software supply) → US-LAW",
         {"vendor": "stackco", "vendor_access": "software_supply", "entity": "stackco", "country": "US",
          "depth": 0})]
    assert local["vendor"] == {"id": "stackco", "name": "StackCo", "country": "US", "access": "software_supply",
                               "distribution": ""}


def test_each_hit_carries_its_law_its_chain_as_message_ids_and_whether_it_is_inferred(nimbus) -> None:
    [entry] = [e for e in nimbus["exposure"] if e["law"] == "us-law" and e["channel"] == "legal_control"]
    assert {k: v for k, v in entry.items() if k not in ("explanation", "facts", "chain")} == {
        "law": "us-law", "law_name": "US-LAW", "country": "US", "channel": "legal_control", "strength": "compelled",
        "inference": True}
    assert entry["chain"] == [
        {"id": "Region {region}", "params": {"region": "nimbus/eu-west"}},
        {"id": "cloud {cloud} operated by {entity} ({entity_country})",
         "params": {"cloud": "Nimbus Cloud", "entity": "Nimbus France", "entity_country": "FR"}},
        {"id": "{capital_pct} owned by {entity} ({entity_country})",
         "params": {"capital_pct": 100.0, "entity": "Nimbus Inc", "entity_country": "US"}}]
    stored = next(e for e in nimbus["exposure"] if e["law"] == "gb-law")
    assert stored["inference"] is False
    assert stored["chain"] == [{"id": "Region {region} stores its data in {datacenter} ({city}, {country})",
                                "params": {"region": "nimbus/eu-west", "datacenter": "London", "city": "London",
                                           "country": "GB"}}]
    backup = next(e for e in nimbus["exposure"] if e["law"] == "us-law" and e["channel"] == "data_location")
    assert backup["chain"][0]["id"] == "Region {region} backs up its data to {datacenter} ({country})"
    unregistered = next(e for e in nimbus["exposure"] if e["law"] == "cn-law")
    assert unregistered["chain"][2] == {"id": "{capital_pct} owned by {entity}",
                                        "params": {"capital_pct": 100.0, "entity": "hw-holdco"}}


def test_every_exposure_is_listed_once_in_law_order(nimbus) -> None:
    assert [(e["law"], e["channel"]) for e in nimbus["exposure"]] == [
        ("us-law", "legal_control"), ("us-law", "data_location"), ("us-law", "access"), ("us-law", "access"),
        ("us-law", "access"), ("cn-law", "supply_chain"), ("in-law", "access"), ("fr-law", "legal_control"),
        ("gb-law", "data_location")]


# --- per-law verdicts -----------------------------------------------------------------------------------------


def test_each_law_is_judged_with_its_strongest_hit_or_the_reason_it_does_not_reach(nimbus) -> None:
    laws = {entry["law"]: entry for entry in nimbus["laws"]}
    assert list(laws) == ["us-law", "cn-law", "in-law", "fr-law", "gb-law", "ru-law", "de-law"]
    assert {slug: (entry["exposed"], entry["strength"]) for slug, entry in laws.items()} == {
        "us-law": (True, "compelled"), "cn-law": (True, "informational"), "in-law": (True, "compelled"),
        "fr-law": (True, "compelled"), "gb-law": (True, "compelled"), "ru-law": (False, None),
        "de-law": (False, None)}
    assert laws["us-law"]["paths"] == [e for e in nimbus["exposure"] if e["law"] == "us-law"]
    assert {k: laws["ru-law"][k] for k in ("name", "country", "citation", "source", "paths", "channels")} == {
        "name": "RU-LAW", "country": "RU", "citation": "ru-law §1", "source": {"url": "https://law.example/ru-law"},
        "paths": [], "channels": ["legal_control", "access"]}
    assert laws["ru-law"]["why_not"] == (
        "RU-LAW reaches data only through legal control, access, satellite: no entity in the operator's control"
        " chain is domiciled in Russia; no staff, vendor or facility operator has access from Russia.")
    assert laws["de-law"]["why_not"] == "DE-LAW reaches data only through no channel: ."
    assert laws["us-law"]["why_not"] is None
    assert laws["gb-law"]["channels"] == ["data_location"]


def test_why_not_names_every_channel_in_words() -> None:
    every = law("xx-law", "RU", legal_control={"strength": "compelled"}, data_location={"strength": "compelled"},
                access={"strength": "compelled"}, supply_chain={"strength": "informational"})
    kb = KnowledgeBase(eu_countries=KB.eu_countries, eea_countries=KB.eea_countries,
                       country_names=KB.country_names, adequacy=(), laws=(every,))
    [verdict] = region_profile(estate(), "local", "de", kb, ON)["laws"]
    assert verdict["why_not"] == (
        "XX-LAW reaches data only through legal control, data location, access, supply chain: no entity in the"
        " operator's control chain is domiciled in Russia; no primary or backup site is in Russia; no staff, vendor"
        " or facility operator has access from Russia; no vendor is domiciled in Russia.")


# --- the level --------------------------------------------------------------------------------------------------


def test_the_level_is_exposed_informational_or_immune_by_foreign_laws_only(nimbus, local) -> None:
    assert nimbus["level"] == "exposed"
    assert local["level"] == "informational"
    foreign = {"country": "US", "strength": "informational"}
    eu_compelled = {"country": "FR", "strength": "compelled"}
    assert sovereignty_level([], KB) == "immune"
    assert sovereignty_level([eu_compelled], KB) == "immune"
    assert sovereignty_level([eu_compelled, foreign], KB) == "informational"
    assert sovereignty_level([foreign, {"country": "CN", "strength": "compelled"}], KB) == "exposed"


# --- the rest of the profile ------------------------------------------------------------------------------------


def test_the_profile_describes_the_region_its_operator_and_its_sites(nimbus) -> None:
    assert {k: nimbus[k] for k in ("id", "name", "date", "cloud")} == {
        "id": "nimbus/eu-west", "name": "EU West", "date": "2026-11-25",
        "cloud": {"id": "nimbus", "name": "Nimbus Cloud", "kind": "hyperscaler"}}
    assert nimbus["operator"] == {
        "id": "nimbus-fr", "name": "Nimbus France", "country": "FR", "eu": True, "dpf_certified": False,
        "chain": [
            {"id": "nimbus-fr", "name": "Nimbus France", "country": "FR", "eu": True, "relation": "operator",
             "dpf_certified": False},
            {"id": "nimbus-inc", "name": "Nimbus Inc", "country": "US", "eu": False, "relation": "100 % owned",
             "dpf_certified": True},
            {"id": "nimbus-holding", "name": "Nimbus Holding", "country": "US", "eu": False,
             "relation": "40 % of capital and 60 % of votes held", "dpf_certified": False}]}
    assert nimbus["data_locations"] == [
        {"datacenter": "dc-par", "name": "Paris 1", "city": "Paris", "country": "FR", "role": "primary",
         "operator": {"id": "nimbus-fr", "name": "Nimbus France", "country": "FR"}},
        {"datacenter": "dc-lon", "name": "London", "city": "London", "country": "GB", "role": "primary",
         "operator": {"id": "ghost-op", "name": "ghost-op", "country": ""}},
        {"datacenter": "dc-ash", "name": "Ashburn", "city": "", "country": "US", "role": "backup",
         "operator": {"id": "colo", "name": "Colo Corp", "country": "US"}}]
    assert nimbus["data_countries"] == ["FR", "GB", "US"]
    assert (nimbus["admin_staff_countries"], nimbus["support_staff_countries"]) == (["FR", "IN"], ["US"])
    assert nimbus["vendor"] == {"id": "stackco", "name": "StackCo", "country": "US", "access": "remote_support",
                                "distribution": "StackOS 9"}
    assert nimbus["hardware_vendors"] == [{"id": "hw-nl", "name": "HW Netherlands", "country": "NL"}]
    assert nimbus["key_custody"] == {"holder": "customer", "country": "FR"}


def test_the_profile_carries_the_ownership_test_and_its_lines(nimbus) -> None:
    assert nimbus["ownership"]["passed"] is False
    assert nimbus["ownership"]["explanation"][0] == "Nimbus France has its seat in FR (EU)."
    assert nimbus["ownership_lines"][0] == {"id": "{name} has its seat in {country} (EU).",
                                            "params": {"name": "Nimbus France", "country": "FR"}}
    assert len(nimbus["ownership_lines"]) == len(nimbus["ownership"]["explanation"]) == 3


def test_a_profile_without_vendor_or_key_country_says_none(local) -> None:
    assert local["key_custody"] == {"holder": "provider", "country": None}
    assert local["hardware_vendors"] == [] and local["certifications"] == []
    no_vendor = estate()
    no_vendor.clouds["local"].stack_vendor = None
    assert region_profile(no_vendor, "local", "de", KB, ON)["vendor"] is None


def test_certifications_of_the_cloud_and_of_the_region_with_their_validity_on_the_date(nimbus) -> None:
    assert nimbus["certifications"] == [
        {"scheme": "secnumcloud", "version": "3.2", "level": None, "scope": "IaaS", "valid_from": "2024-01-01",
         "valid_until": "2026-11-25", "valid": True, "days_to_expiry": 0, "held_by": "cloud",
         "evidence_url": "https://cert.example/1"},
        {"scheme": "hds", "version": "2", "level": "high", "scope": "hosting", "valid_from": "2025-01-01",
         "valid_until": None, "valid": True, "days_to_expiry": None, "held_by": "region", "evidence_url": ""}]
    later = region_profile(estate(), "nimbus", "eu-west", KB, dt.date(2026, 12, 5))["certifications"][0]
    assert (later["valid"], later["days_to_expiry"]) == (False, -10)


def test_dpf_certification_is_judged_on_the_profiles_date() -> None:
    before = region_profile(estate(), "nimbus", "eu-west", KB, dt.date(2023, 12, 31))
    assert before["operator"]["chain"][1]["dpf_certified"] is False
    assert before["date"] == "2023-12-31"


def test_without_a_date_the_profile_is_of_today() -> None:
    assert region_profile(estate(), "local", "de", KB)["date"] == dt.date.today().isoformat()


def test_a_vendor_that_runs_operations_has_access() -> None:
    operated = estate()
    operated.clouds["local"].vendor_access = "operations"
    profile = region_profile(operated, "local", "de", KB, ON)
    assert hits(profile, "us-law") == [
        ("access", "compelled", "Region local/de ← cloud Local runs on stack vendor StackCo (US) (stack)"
         " ← has operations access → US-LAW",
         {"vendor": "stackco", "vendor_access": "operations", "entity": "stackco", "country": "US", "depth": 0})]
    assert profile["level"] == "exposed"


def test_staff_and_vendor_lines_carry_the_codes_translations_need(nimbus) -> None:
    admin = next(e for e in nimbus["exposure"] if e["facts"].get("staff") == "admin")
    assert admin["chain"] == [{"id": "Region {region} is administered by admin staff in {country_text}",
                               "params": {"region": "nimbus/eu-west", "country": "IN",
                                          "country_text": "India (IN)"}}]
    vendor = next(e for e in nimbus["exposure"] if "vendor" in e["facts"])
    assert vendor["chain"][-1] == {"id": "has {access_text} access",
                                   "params": {"vendor_access": "remote_support", "access_text": "remote support"}}


def test_the_operators_own_dpf_certification_is_judged_on_the_profiles_date() -> None:
    certified = estate()
    operator = certified.entities["nimbus-fr"]
    certified.entities["nimbus-fr"] = dataclasses.replace(operator, dpf_certified=True, dpf_since=dt.date(2025, 1, 1))
    assert region_profile(certified, "nimbus", "eu-west", KB, ON)["operator"]["dpf_certified"] is True
    assert region_profile(certified, "nimbus", "eu-west", KB, dt.date(2024, 12, 31))["operator"]["dpf_certified"] \
        is False
