"""Violations reference their denial instead of copying its text (issue 11, item 4).

A pass stores each distinct denial once, whatever the number of resources carrying it; a pass that decides
as before writes nothing; a changed denial repoints the violations that carried it; code that still creates
``Violation(message=…, reason=…)`` gets a shared denial; the migration moves existing text.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.models import Resource
from souverain.policy.compliance import evaluate
from souverain.policy.models import Denial, Violation, denial_hash

ON = dt.date(2026, 11, 25)
_ids = itertools.count()


def resource(region_key: str, tenant=None, tags=None) -> Resource:
    cloud, slug = region_key.split("/")
    region = Region.objects.select_related("cloud").get(cloud__slug=cloud, slug=slug)
    now = timezone.now()
    return Resource.objects.create(kind="server", cloud=region.cloud, region=region, tenant=tenant,
                                   external_id=f"den-{next(_ids)}", name=f"den-{next(_ids)}", status="active",
                                   attrs={}, attrs_hash="x", tags=tags or [], first_seen=now, last_seen=now)


@pytest.mark.django_db
def test_a_class_of_many_resources_stores_each_denial_once(example_estate, tenants):
    servers = [resource("international/eu-west-1", tenant=tenants["home"]) for _ in range(5)]
    result = evaluate(on=ON, trigger="manual")
    rules = set(Violation.objects.filter(resource=servers[0]).values_list("rule", flat=True))
    assert rules and result.opened == 5 * len(rules)
    assert Denial.objects.count() == len(rules)  # not 5 × as many
    for violation in Violation.objects.filter(resource__in=servers):
        denial = Denial.objects.get(rule=violation.rule)
        assert violation.denial_id == denial.pk
        assert violation.message == denial.message and violation.reason == denial.reason
        assert denial.hash == denial_hash(denial.rule, denial.severity, denial.message, denial.reason)
        assert denial.message_fr and denial.message_fr != denial.message  # the packs' French


@pytest.mark.django_db
def test_a_pass_that_decides_as_before_writes_nothing_and_a_changed_denial_repoints(example_estate, tenants):
    misplaced = resource("international/eu-west-1", tenant=tenants["home"])
    first = evaluate(on=ON, trigger="manual")
    before = {v.pk: (v.denial_id, v.last_seen) for v in Violation.objects.all()}
    denials = Denial.objects.count()
    second = evaluate(on=ON, trigger="manual")
    assert second.opened == 0 and second.resolved == 0
    assert {v.pk: (v.denial_id, v.last_seen) for v in Violation.objects.all()} == before
    assert Denial.objects.count() == denials
    # A violation carrying another text (as if the rule's wording changed) is pointed at the current denial.
    stale = Violation.objects.filter(resource=misplaced).first()
    old = Denial.objects.create(hash="0" * 64, rule=stale.rule, severity=stale.severity, message="old wording",
                                reason=[])
    Violation.objects.filter(pk=stale.pk).update(denial=old)
    third = evaluate(on=ON, trigger="manual")
    stale.refresh_from_db()
    assert stale.denial_id == before[stale.pk][0] and stale.message != "old wording"
    assert stale.last_seen == third.started and stale.first_seen == first.started
    assert all(v.last_seen == before[v.pk][1] for v in Violation.objects.exclude(pk=stale.pk))


@pytest.mark.django_db
def test_violations_created_with_text_share_one_denial(example_estate, tenants):
    server = resource("international/eu-west-1", tenant=tenants["home"])
    now = timezone.now()
    common = {"resource": server, "region": server.region, "severity": "high", "first_seen": now, "last_seen": now,
              "message": "not here", "reason": {"message_fr": "pas ici"}}
    one = Violation.objects.create(rule="test.one", **common)
    Violation.objects.filter(pk=one.pk).update(resolved_at=now)
    two = Violation.objects.create(rule="test.one", **common)
    [three] = Violation.objects.bulk_create([Violation(rule="test.two", **common)])
    assert one.denial_id == two.denial_id != three.denial_id
    assert Denial.objects.count() == 2
    fresh = Violation.objects.get(pk=two.pk)
    assert (fresh.message, fresh.message_fr, fresh.reason) == ("not here", "pas ici", {"message_fr": "pas ici"})
    assert Violation.objects.filter(denial__message="not here").count() == 3


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_existing_text_into_shared_denials(example_estate, tenants):
    server = resource("international/eu-west-1", tenant=tenants["home"])
    other = resource("international/eu-west-1", tenant=tenants["home"])
    executor = MigrationExecutor(connection)
    executor.migrate([("policy", "0006_denial")])
    try:
        reason = [{"message": "Region r is out", "message_fr": "La région r est dehors", "facts": {"n": 1}}]
        stamp = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            for res, rule in ((server, "a.rule"), (other, "a.rule"), (server, "b.rule")):
                cursor.execute(
                    "INSERT INTO policy_violation (resource_id, tenant_id, region_id, rule, severity, message, reason,"
                    " first_seen, last_seen) VALUES (%s, %s, %s, %s, 'high', 'Region r is out', %s, %s, %s)",
                    [res.pk, res.tenant_id, res.region_id, rule, json.dumps(reason), stamp, stamp])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert Denial.objects.count() == 2  # one per distinct (rule, text)
    rows = list(Violation.objects.order_by("rule", "resource_id"))
    assert [v.rule for v in rows] == ["a.rule", "a.rule", "b.rule"] and rows[0].denial_id == rows[1].denial_id
    assert rows[0].reason == reason and rows[0].message_fr == "La région r est dehors"
    # The hash is the one a pass computes, so the next pass finds the same denial instead of rewriting.
    assert rows[0].denial.hash == denial_hash("a.rule", "high", "Region r is out", reason)
