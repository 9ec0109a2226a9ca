"""What-if on the example estate: the seed question, nothing written, bad patches refused, tenant isolation."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.models import Resource
from souverain.mobility import changes, services
from souverain.mobility.models import SavedWorkload

ON = dt.date(2026, 11, 25)
SEED = Path(__file__).resolve().parents[3] / "examples" / "whatif" / "sovereign-on-vendor-stack.yaml"
_ids = itertools.count()


def resource(region_key: str, tenant=None, tags=None, kind="server", name=None) -> Resource:
    cloud, slug = region_key.split("/")
    region = Region.objects.select_related("cloud").get(cloud__slug=cloud, slug=slug)
    now = timezone.now()
    n = next(_ids)
    return Resource.objects.create(kind=kind, cloud=region.cloud, region=region, tenant=tenant,
                                   external_id=f"ext-{n}", name=name or f"res-{n}", status="active",
                                   attrs={}, attrs_hash="x", tags=tags or [], first_seen=now, last_seen=now)


@pytest.fixture
def seeded(example_estate, tenants):
    """The ministry (Diffusion Restreinte, SecNumCloud required) on the sovereign cloud, another tenant's
    public data there too, and the ministry elsewhere already."""
    home, foreign = tenants["home"], tenants["foreign"]
    return {
        "ministry_dr": [resource("sovereign/fr-paris-1", home, name=f"dr-{i}") for i in range(3)],
        "ministry_volume": resource("sovereign/fr-paris-1", home, kind="volume", name="dr-volume"),
        "ministry_port": resource("sovereign/fr-paris-1", home, kind="port", name="a-port"),
        "public": resource("sovereign/fr-paris-1", foreign, name="foreign-vm"),
        "health": resource("sovereign/fr-paris-1", foreign, tags=["souverain:classes=health"], name="foreign-health"),
        "elsewhere": resource("international/eu-west-1", home, name="already-misplaced"),
        "tenants": tenants,
    }


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.mark.django_db
def test_the_seed_question_reaches_the_sovereign_region_through_the_vendor_and_writes_nothing(seeded):
    from souverain.audit.models import AuditRecord
    from souverain.core.models import ObjectChange

    SavedWorkload.objects.create(tenant=seeded["tenants"]["home"], name="dr-app",
                                 descriptor={"name": "dr-app", "data_classes": ["diffusion_restreinte"]})
    counts = row_counts()
    last_change = ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    last_audit = AuditRecord.objects.order_by("-pk").values_list("pk", flat=True).first()

    question = services.change_question(SEED.read_text(encoding="utf-8"), SEED.name)
    result = services.answer(question, on=ON)

    assert row_counts() == counts
    assert ObjectChange.objects.order_by("-pk").values_list("pk", flat=True).first() == last_change
    assert AuditRecord.objects.order_by("-pk").values_list("pk", flat=True).first() == last_audit

    region = next(r for r in result["regions"] if r["region"] == "sovereign/fr-paris-1")
    assert region["status"] == "changed"
    assert region["level"] == {"before": "immune", "after": "exposed"}
    newly = {law["law"]: law for law in region["newly_reaching_laws"]}
    assert "cn-nil-art7" in newly and newly["cn-nil-art7"]["country"] == "CN"
    assert "access" in newly["cn-nil-art7"]["channels"]
    assert "supply_chain" in newly["cn-nil-art7"]["channels"]  # the vendor's hardware comes with the stack
    access = next(p for p in region["new_paths"] if p["law"] == "cn-nil-art7" and p["channel"] == "access")
    assert "Longhua Technologies" in access["explanation"] and "remote support" in access["explanation"]
    assert access["strength"] == "compelled"
    assert not any(law["country"] == "US" for law in region["newly_reaching_laws"])
    # The other regions did not move.
    assert {r["region"]: r["status"] for r in result["regions"]}["international/eu-west-1"] == "same"

    res = result["resources"]
    listed = {item["name"]: item for item in res["list"]}
    # Every live data-holding resource of the ministry on the sovereign cloud becomes non-compliant ...
    assert set(listed) >= {"dr-0", "dr-1", "dr-2", "dr-volume", "foreign-health"}
    assert "a-port" not in listed and "already-misplaced" not in listed  # no data / already non-compliant there
    rules = {r["rule"] for r in listed["dr-0"]["rules"]}
    assert "secnumcloud.vendor_access" in rules
    assert {r["severity"] for r in listed["dr-0"]["rules"]} >= {"critical"}
    assert res["newly_non_compliant"] == len(listed) == res["listed"]
    assert {t["tenant"]: t["resources"] for t in res["by_tenant"]}["ministere"] == 4
    by_class = {c["data_class"]: c["resources"] for c in res["by_data_class"]}
    assert by_class["diffusion_restreinte"] == 4 and by_class["health"] == 1
    assert any(r["rule"] == "secnumcloud.vendor_access" and r["resources"] >= 4 for r in res["by_rule"])
    # ... and could go nowhere else on the changed estate's public clouds but where placement allows.
    group = next(g for g in res["groups"] if g["tenant"] == "ministere" and g["region"] == "sovereign/fr-paris-1")
    assert all(d["region"] != "sovereign/fr-paris-1" for d in group["could_go"])
    assert all(d["capacity"] in {"fits", "full", "unknown"} for g in res["groups"] for d in g["could_go"])
    assert result["capacity"] == "measured"
    # Capacity never measured in this database: the capacity app says so for every destination.
    assert services._capacity(services._capacity_fits(), ["international/eu-central-1", "nimbus/eu-paris-1"], 4) == {
        "international/eu-central-1": "unknown", "nimbus/eu-paris-1": "unknown"}
    # The saved workload loses the sovereign region.
    [saved] = result["saved_workloads"]
    assert saved["best"]["before"] == "sovereign/fr-paris-1"
    assert "sovereign/fr-paris-1" in [lost["region"] for lost in saved["lost"]] and saved["flips"]


@pytest.mark.django_db
def test_a_fresh_process_reads_the_compliance_pass_decisions_from_the_shared_store_and_writes_none(seeded):
    from souverain.policy import services as policy_services
    from souverain.policy.compliance import evaluate
    from souverain.policy.models import SharedDecision
    from souverain.policy.shared import share_decided

    question = services.change_question(SEED.read_text(encoding="utf-8"), SEED.name)
    engine = policy_services.current_engine()
    engine.cache.invalidate()
    alone = services.answer(question, on=ON)  # nothing shared yet: every decision made here
    assert alone["decisions"]["made"] > 0 and alone["decisions"]["from_store"] == 0

    engine.cache.invalidate()
    evaluate(on=ON, trigger="manual")  # the compliance job: its pass, then it shares what it decided
    assert share_decided(ON) > 0
    engine.cache.invalidate()  # a web process that never decided anything
    counts, shared = row_counts(), SharedDecision.objects.count()
    result = services.answer(question, on=ON)
    assert row_counts() == counts and SharedDecision.objects.count() == shared
    # The "before" side of every class and the destinations in unchanged regions come from the store.
    assert result["decisions"]["from_store"] > 0
    assert result["decisions"]["made"] < alone["decisions"]["made"]
    for part in ("resources", "saved_workloads", "regions"):
        assert result[part] == alone[part]


@pytest.mark.django_db
def test_a_tenant_user_gets_only_its_own_resources_and_the_clouds_it_may_see(seeded, role_users):
    question = services.change_question(SEED.read_text(encoding="utf-8"), SEED.name)
    SavedWorkload.objects.create(tenant=seeded["tenants"]["foreign"], name="foreign-vm-workload",
                                 descriptor={"data_classes": ["health"]})
    result = services.answer(question, on=ON, user=role_users["tenant-member"])
    names = {item["name"] for item in result["resources"]["list"]}
    assert names == {"dr-0", "dr-1", "dr-2", "dr-volume"}
    assert {t["tenant"] for t in result["resources"]["by_tenant"]} == {"ministere"}
    assert result["saved_workloads"] == []
    regions = {r["region"] for r in result["regions"]}
    assert "fusionsphere-private/lyon-campus" not in regions and "sovereign/fr-paris-1" in regions
    assert "Other Corp" not in str(result) and "foreign" not in str(result)


@pytest.mark.django_db
def test_bad_patches_are_refused_with_their_place(example_estate):
    text = """version: 1
changes:
  - stack: {cloud: sovereign, like: nowhere, vendor_access: root}
  - backups: {region: sovereign/fr-paris-1, datacenters: [dc-hx-lyon-1, dc-nope]}
  - shareholder: {entity: hexagone-telecom, holder: ghost, capital: 150}
  - teleport: {cloud: sovereign}
  - certificate_ends: {cloud: sovereign, scheme: c5, on: someday}
  - law: {id: cn-nil-art7, name: X, country: XX, channels: {telepathy: {strength: compelled}}}
extra: 1
"""
    with pytest.raises(changes.ChangeFileError) as caught:
        services.change_question(text, "bad.yaml")
    messages = [str(p) for p in caught.value.problems]
    text_all = "\n".join(messages)
    assert "bad.yaml:3:" in text_all and "changes[0].stack.like: unknown cloud 'nowhere'" in text_all
    assert "changes[0].stack.vendor_access: 'root' is not one of" in text_all
    assert "bad.yaml:4:" in text_all and "changes[1].backups.datacenters[1]: unknown datacenter 'dc-nope'" in text_all
    assert "changes[2].shareholder.holder: unknown entity 'ghost'" in text_all
    assert "changes[2].shareholder.capital: '150' is not a percentage" in text_all
    assert "changes[3].teleport: unknown change 'teleport'" in text_all
    assert "changes[4].certificate_ends.on: 'someday' is not a date" in text_all
    assert "changes[5].law.id: law 'cn-nil-art7' is already in the knowledge base" in text_all
    assert "changes[5].law.country: 'XX' is not" in text_all
    assert "changes[5].law.channels.telepathy: unknown channel" in text_all
    assert "extra: unknown key 'extra'" in text_all


@pytest.mark.django_db
def test_other_changes_apply_in_memory_only(example_estate):
    from souverain.estate import db_snapshot
    from souverain.sovereignty.services import current_knowledge_base

    live, kb = db_snapshot.from_database(), current_knowledge_base()
    text = """version: 1
changes:
  - entity: {id: us-fund, name: "Harbour Fund IV", country: US, kind: fund}
  - shareholder: {entity: hexagone-telecom, holder: us-fund, capital: 30, voting: 30}
  - shareholder: {entity: hexagone-telecom, holder: hexagone-float, capital: 40, voting: 32}
  - backups: {region: sovereign/fr-paris-1, datacenters: [dc-atlas-am5]}
  - certificate_ends: {cloud: sovereign, scheme: secnumcloud, on: 2026-11-30}
  - law: {id: xx-law, name: "A new law", country: SG, channels: {data_location: {strength: compelled}}}
  - backups: {region: sovereign/fr-paris-1, datacenters: [dc-atlas-sg3]}
"""
    question = changes.parse(text, live, kb)
    after, after_kb = changes.apply(question, live, kb)
    assert live.clouds["sovereign"].regions["fr-paris-1"].backup_datacenters == ["dc-hx-lyon-1"]
    assert after.clouds["sovereign"].regions["fr-paris-1"].backup_datacenters == ["dc-atlas-sg3"]
    assert "us-fund" in after.entities and "us-fund" not in live.entities
    assert [law.slug for law in after_kb.laws if law.slug == "xx-law"] and not any(
        law.slug == "xx-law" for law in kb.laws)
    result = services.answer(services.Question(changes=question), on=dt.date(2026, 12, 1))
    region = next(r for r in result["regions"] if r["region"] == "sovereign/fr-paris-1")
    assert {law["law"] for law in region["newly_reaching_laws"]} >= {"xx-law"}
    assert region["ownership"]["before"]["passed"] and not region["ownership"]["after"]["passed"]
    assert region["ownership_flips"]
    assert [c["scheme"] for c in region["certificates"]["lapsed"]] == ["secnumcloud"]
