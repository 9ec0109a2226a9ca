"""Continuous compliance over inventoried resources (created in the database here; syncs make them for real)."""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3

import pytest
from django.db import connection
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.models import Resource
from souverain.jobs.models import Job
from souverain.policy.compliance import evaluate
from souverain.policy.models import Violation

ON = dt.date(2026, 11, 25)
_ids = itertools.count()


def resource(region_key: str, tenant=None, tags=None, kind="server") -> Resource:
    cloud, slug = region_key.split("/")
    region = Region.objects.select_related("cloud").get(cloud__slug=cloud, slug=slug)
    now = timezone.now()
    return Resource.objects.create(kind=kind, cloud=region.cloud, region=region, tenant=tenant,
                                   external_id=f"ext-{next(_ids)}", name=f"res-{next(_ids)}", status="active",
                                   attrs={}, attrs_hash="x", tags=tags or [], first_seen=now, last_seen=now)


@pytest.fixture
def estate(example_estate, tenants):
    return tenants


def open_rules(res: Resource) -> set[str]:
    return set(Violation.objects.filter(resource=res, resolved_at__isnull=True).values_list("rule", flat=True))


@pytest.mark.django_db
def test_a_ministry_server_on_the_international_cloud_is_a_critical_violation(estate):
    misplaced = resource("international/eu-west-1", tenant=estate["home"])
    well_placed = resource("sovereign/fr-paris-1", tenant=estate["home"])
    public = resource("international/eu-west-1", tenant=estate["foreign"])
    result = evaluate(on=ON, trigger="manual")
    assert result.resources == 3 and result.classes == 3
    rules = open_rules(misplaced)
    assert {"secnumcloud.vendor_access", "extraterritorial.compelled_exposure"} <= rules
    violation = Violation.objects.get(resource=misplaced, rule="secnumcloud.vendor_access")
    assert violation.severity == "critical" and violation.tenant == estate["home"]
    assert "Longhua" in violation.message and violation.reason[0]["source"].startswith("SecNumCloud")
    assert open_rules(well_placed) == set()
    assert open_rules(public) == set()
    assert result.opened == Violation.objects.count()


@pytest.mark.django_db
def test_a_second_pass_keeps_violations_open_and_a_fix_resolves_them(estate):
    misplaced = resource("international/eu-west-1", tenant=estate["home"])
    first = evaluate(on=ON)
    before = {v.rule: v.first_seen for v in Violation.objects.filter(resource=misplaced)}
    second = evaluate(on=ON)
    assert second.opened == 0 and second.resolved == 0
    after = Violation.objects.filter(resource=misplaced, resolved_at__isnull=True)
    assert {v.rule: v.first_seen for v in after} == before
    assert second.resources == 1 and second.finished > first.finished
    # Moved to the sovereign cloud (as a sync would record it): everything resolves.
    sovereign = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")
    Resource.objects.filter(pk=misplaced.pk).update(region=sovereign, cloud=sovereign.cloud)
    third = evaluate(on=ON)
    assert third.resolved == first.opened
    assert not Violation.objects.filter(resolved_at__isnull=True).exists()
    assert Violation.objects.filter(resource=misplaced).count() == first.opened  # history kept


@pytest.mark.django_db
def test_tags_add_classes_and_dates_matter(estate):
    health = resource("international/eu-west-1", tags=["souverain:classes=health"])
    untagged = resource("international/eu-west-1")
    evaluate(on=dt.date(2026, 5, 15))
    assert "hds.certificate" not in open_rules(health)
    assert open_rules(untagged) == set()
    evaluate(on=dt.date(2026, 5, 16))  # the HDS certificate expired the day before
    assert "hds.certificate" in open_rules(health)


@pytest.mark.django_db
def test_a_partial_pass_touches_only_its_resources(estate):
    a = resource("international/eu-west-1", tenant=estate["home"])
    b = resource("international/eu-central-1", tenant=estate["home"])
    evaluate(on=ON)
    Resource.objects.filter(pk__in=[a.pk, b.pk]).update(gone_at=timezone.now())
    partial = evaluate(resource_ids=[a.pk], on=ON, trigger="sync")
    assert partial.scope == "partial" and partial.resolved > 0
    assert open_rules(a) == set()
    assert open_rules(b)  # not in scope: untouched until a pass covers it


@pytest.mark.django_db
def test_a_partial_pass_over_more_ids_than_sqlite_takes_parameters(estate):
    misplaced = resource("international/eu-west-1", tenant=estate["home"])
    region = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")  # well placed: no violation to write
    now = timezone.now()
    Resource.objects.bulk_create(
        [Resource(kind="volume", cloud=region.cloud, region=region, tenant=estate["home"], external_id=f"bulk-{i}",
                  name=f"bulk-{i}", status="available", attrs={}, attrs_hash="x", tags=[], first_seen=now,
                  last_seen=now) for i in range(33_000)], batch_size=5000)
    ids = list(Resource.objects.values_list("pk", flat=True))
    if connection.vendor == "sqlite":  # SQLite's own default; Debian's library allows 250 000
        connection.connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
    assert len(ids) > 32_766

    first = evaluate(resource_ids=ids, on=ON, trigger="sync")
    assert (first.scope, first.resources, first.classes) == ("partial", 33_001, 2)
    assert "secnumcloud.vendor_access" in open_rules(misplaced)
    assert first.opened == Violation.objects.filter(resource=misplaced).count() > 0

    Resource.objects.filter(pk=misplaced.pk).update(gone_at=now)
    again = evaluate(resource_ids=[*ids, -1], on=ON, trigger="sync")
    assert (again.resources, again.opened, again.resolved) == (33_000, 0, first.opened)
    assert open_rules(misplaced) == set()


@pytest.mark.django_db
def test_api_scopes_violations_to_the_tenant_and_summarises(estate, api_as):
    mine = resource("international/eu-west-1", tenant=estate["home"])
    # A private company's restricted data is denied only when it requires SecNumCloud itself.
    theirs = resource("international/eu-west-1", tenant=estate["foreign"],
                      tags=["souverain:classes=diffusion_restreinte", "souverain:secnumcloud=true"])
    evaluate(on=ON)
    member = api_as("tenant-member").get("/api/compliance/violations/", {"open": "true", "limit": 500}).json()
    assert member["count"] > 0
    assert {row["resource"] for row in member["results"]} == {mine.pk}
    operator = api_as("operator-ops").get("/api/compliance/violations/", {"limit": 500}).json()
    assert {row["resource"] for row in operator["results"]} == {mine.pk, theirs.pk}
    summary = api_as("auditor").get("/api/compliance/violations/summary/").json()
    assert summary["open"] == operator["count"] and summary["by_severity"]["critical"] > 0
    theirs_id = Violation.objects.filter(resource=theirs).first().pk
    assert api_as("tenant-member").get(f"/api/compliance/violations/{theirs_id}/").status_code == 404


@pytest.mark.django_db
def test_sync_policy_and_estate_changes_queue_a_pass(estate):
    from souverain.inventory.signals import inventory_changed

    res = resource("international/eu-west-1")
    Job.objects.filter(kind="policy.compliance").delete()
    inventory_changed.send(sender=Resource, resource_ids=[res.pk], job_id=None)
    job = Job.objects.get(kind="policy.compliance")
    assert job.params == {"trigger": "sync", "resource_ids": [res.pk], "on": None}
    job.delete()
    # A sync that changed a great many resources: one full pass, not a job row carrying every id.
    inventory_changed.send(sender=Resource, resource_ids=list(range(1, 20_002)), job_id=None)
    assert Job.objects.get(kind="policy.compliance").params == {"trigger": "sync", "resource_ids": None, "on": None}
