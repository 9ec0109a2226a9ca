"""Input documents for the engine's tests, shaped as souverain/policies/INPUT.md describes."""

from __future__ import annotations

import copy
from typing import Any

EU = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
DATE = "2026-11-25"


def kb() -> dict[str, Any]:
    return {
        "eu_countries": list(EU),
        "eea_countries": [*EU, "IS", "LI", "NO"],
        "adequacy": [
            {"country": "CH", "scope": "full"},
            {"country": "JP", "scope": "full"},
            {"country": "CA", "scope": "commercial"},
            {"country": "US", "scope": "dpf_certified_only"},
        ],
        "dpf_certified": [],
        "laws": [
            {"id": "cn-national-intelligence-law", "country": "CN"},
            {"id": "us-cloud-act", "country": "US"},
        ],
    }


def workload(*classes: str, **requirements: Any) -> dict[str, Any]:
    base = {
        "secnumcloud": False,
        "eu_only": False,
        "no_exposure_to": [],
        "customer_held_keys": False,
        "no_foreign_law": False,
        "allowed_countries": [],
        "eucs_level": None,
        "packs": [],
    }
    return {
        "tenant": "ministere-interieur",
        "tenant_category": "state_administration",  # a ministry: "cloud au centre" binds it
        "data_classes": list(classes),
        "unknown_labels": [],
        "requirements": {**base, **requirements},
        "safeguards": [],
    }


def certificate(scheme: str, *, valid_until: str = "2027-12-31", valid: bool = True, days: int | None = 401):
    return {
        "scheme": scheme,
        "version": "3.2" if scheme == "secnumcloud" else "2024",
        "level": None,
        "scope": "IaaS",
        "valid_from": "2025-01-01",
        "valid_until": valid_until,
        "valid": valid,
        "days_to_expiry": days,
    }


def location(datacenter: str, country: str, role: str, operator: tuple[str, str] = ("Sovereign SAS", "FR")):
    return {
        "datacenter": datacenter,
        "country": country,
        "role": role,
        "operator": {"name": operator[0], "country": operator[1]},
    }


def sovereign_region() -> dict[str, Any]:
    """A French region run by a French company, French staff and keys, SecNumCloud and HDS certified."""
    operator = {"id": "sovereign-sas", "name": "Sovereign SAS", "country": "FR", "eu": True}
    return {
        "id": "sovereign/fr-paris-1",
        "name": "fr-paris-1",
        "cloud": {"id": "sovereign", "name": "Sovereign cloud", "kind": "openstack"},
        "operator": {**operator, "chain": [{**operator, "relation": "operator"}]},
        "ownership": {
            "passed": True,
            "non_eu_single_max": None,
            "non_eu_total_capital": 0.0,
            "non_eu_total_voting": 0.0,
            "thresholds": {"single": 24, "total": 39},
            "explanation": ["No non-EU shareholder."],
        },
        "data_locations": [location("PAR-1", "FR", "primary"), location("LYO-1", "FR", "backup")],
        "data_countries": ["FR"],
        "admin_staff_countries": ["FR"],
        "support_staff_countries": ["FR"],
        "vendor": None,
        "hardware_vendors": [],
        "key_custody": {"holder": "provider", "country": "FR"},
        "certifications": [certificate("secnumcloud"), certificate("hds")],
        "exposure": [],
    }


def huawei_region() -> dict[str, Any]:
    """Run by a French company on a Chinese vendor's stack with remote support, backed up in a datacenter
    in the Netherlands owned by a US colocation company."""
    region = sovereign_region()
    region.update(
        id="international/nl-ams-1",
        name="nl-ams-1",
        data_locations=[
            location("PAR-2", "FR", "primary"),
            location("AMS-1", "NL", "primary"),
            location("AMS-COLO", "NL", "backup", operator=("US Colo Inc.", "US")),
        ],
        data_countries=["FR", "NL"],
        vendor={"id": "huawei", "name": "Huawei", "country": "CN", "access": "remote_support"},
        hardware_vendors=[{"id": "huawei", "name": "Huawei", "country": "CN"}],
        certifications=[certificate("iso27001")],
        exposure=[
            {
                "law": "cn-national-intelligence-law",
                "law_name": "China National Intelligence Law",
                "country": "CN",
                "channel": "access",
                "strength": "compelled",
                "explanation": "Region nl-ams-1 ← stack vendor Huawei (CN) with remote support → art. 7",
            },
            {
                "law": "us-cloud-act",
                "law_name": "US CLOUD Act",
                "country": "US",
                "channel": "legal_control",
                "strength": "compelled",
                "explanation": "Backup site AMS-COLO ← operated by US Colo Inc. (US) → CLOUD Act",
            },
        ],
    )
    return region


def document(workload_: dict[str, Any], region: dict[str, Any], date: str = DATE) -> dict[str, Any]:
    return copy.deepcopy({"date": date, "workload": workload_, "region": region, "kb": kb()})
