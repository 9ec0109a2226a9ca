"""Exposure on plain data, without a database: the example estate file and the packaged knowledge base.

The same facts as the API tests of ``test_exposure.py``, at the level of ``exposure.region_profile`` — fast
enough to run for every mutant of the mutation run (``make mutation``), and a check that the what-if path
(``souverain place --estate FILE``) explains regions as the database path does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from souverain.estate import estatefile, snapshot
from souverain.estate.exposure import region_profile, sovereignty_level
from souverain.sovereignty import kb as knowledge

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "estate" / "souverain.yaml"
ON = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def kb() -> knowledge.KnowledgeBase:
    return knowledge.packaged()


@pytest.fixture(scope="module")
def estate(kb: knowledge.KnowledgeBase) -> snapshot.EstateData:
    return snapshot.from_document(estatefile.load(EXAMPLE, kb))


def profile(estate: snapshot.EstateData, kb: knowledge.KnowledgeBase, key: str, on: dt.date = ON) -> dict[str, Any]:
    cloud, region = key.split("/")
    return region_profile(estate, cloud, region, kb, on)


def chains(data: dict, law: str, channel: str | None = None) -> list[str]:
    return [e["explanation"] for e in data["exposure"] if e["law"] == law and channel in (None, e["channel"])]


def test_the_sovereign_region_is_immune_and_says_why_for_each_law(estate, kb) -> None:
    data = profile(estate, kb, "sovereign/fr-paris-1")
    assert data["level"] == "immune" == sovereignty_level(data["exposure"], kb)
    assert [e for e in data["exposure"] if e["country"] != "FR"] == []
    assert data["ownership"]["passed"] is True
    assert all(not law["exposed"] and law["why_not"] for law in data["laws"])
    cloud_act = next(law for law in data["laws"] if law["law"] == "us-cloud-act")
    assert "no entity in the operator's control chain is domiciled in United States" in cloud_act["why_not"]


def test_the_international_region_is_reached_by_the_vendor_and_the_us_colocation(estate, kb) -> None:
    data = profile(estate, kb, "international/eu-west-1")
    assert data["level"] == "exposed"
    vendor = chains(data, "cn-nil-art7", "access")
    assert vendor and vendor[0].startswith("Region international/eu-west-1 ← cloud")
    assert chains(data, "cn-nil-art7", "supply_chain")
    colo = chains(data, "us-fisa-702", "access")
    assert len(colo) == 1 and "← 100 % owned by Atlas Interconnect, Inc. (US) → FISA" in colo[0]
    assert not chains(data, "us-cloud-act")


def test_the_us_hyperscaler_is_reached_through_its_parent_and_fails_the_ownership_test(estate, kb) -> None:
    data = profile(estate, kb, "nimbus/eu-paris-1")
    cloud_act = chains(data, "us-cloud-act", "legal_control")
    assert len(cloud_act) == 1
    assert "← 100 % owned by Nimbus Web Services, Inc. (US) → CLOUD Act" in cloud_act[0]
    assert data["ownership"]["passed"] is False
    assert data["ownership"]["non_eu_single_max"]["country"] == "US"
    assert [e["country"] for e in data["operator"]["chain"][:2]] == ["IE", "US"]


def test_certificates_are_valid_up_to_their_last_day(estate, kb) -> None:
    def hds(on: dt.date) -> dict[str, Any]:
        return next(c for c in profile(estate, kb, "international/eu-west-1", on)["certifications"]
                    if c["scheme"] == "hds")

    assert hds(dt.date(2026, 5, 15))["valid"] and hds(dt.date(2026, 5, 15))["days_to_expiry"] == 0
    assert not hds(dt.date(2026, 5, 16))["valid"]


def test_every_region_of_the_example_is_explained(estate, kb) -> None:
    for cloud, region in estate.regions():
        data = profile(estate, kb, f"{cloud.id}/{region.id}")
        assert data["level"] in {"immune", "informational", "exposed"}
        for law in data["laws"]:
            assert law["exposed"] == bool(law["paths"]) and (law["exposed"] or law["why_not"])
        for entry in data["exposure"]:
            assert entry["explanation"].startswith(f"Region {cloud.id}/{region.id}")
