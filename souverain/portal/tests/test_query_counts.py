"""The big pages run a fixed number of queries whatever the size of the estate's inventory (no N+1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.models import Resource, ResourceChange, SyncState
from souverain.jobs.models import Job

from .factories import bulk_resources

pytestmark = pytest.mark.django_db

PAGES = ["/", "/?view=world", "/inventory/", "/inventory/?kind=server&sort=-last_seen", "/inventory/?tag=prod",
         "/regions/{region}/", "/clouds/international/", "/inventory/{resource}/", "/placement/",
         "/placement/?run=1&data_classes=health", "/compliance/", "/compliance/rules/hds/", "/sync/", "/sync/jobs/"]
LIMIT = 30


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _grow(tenants: dict[str, Any], resource: Resource) -> None:
    """Ten times the rows: resources, changes of one resource, sync states, jobs."""
    bulk_resources(1400, tenants=[tenants["home"], tenants["foreign"], None], prefix="more")
    for i in range(30):
        ResourceChange.objects.create(resource=resource, time=timezone.now(), action="updated",
                                      changes={"status": {"before": str(i), "after": str(i + 1)}})
    for region in Region.objects.select_related("cloud"):
        for kind in ("server", "volume", "port", "network"):
            SyncState.objects.get_or_create(cloud=region.cloud, region=region, kind=kind,
                                            defaults={"status": "stale", "error": f"{kind} down"})
    for i in range(5):
        Job.objects.create(kind="inventory.sync", status="running", detail={f"c/r{i}": {"kinds": {"servers": "done"}}})
        Job.objects.create(kind="inventory.sync", status="failed", errors=[{"cloud": "c", "error": "x"}])


@pytest.mark.parametrize("username", ["operator-admin", "tenant-member"])
def test_big_pages_query_counts_do_not_grow_with_the_data(client: Client, estate: Any, role_users: Any,
                                                         username: str) -> None:
    client.force_login(role_users[username])
    region = Region.objects.get(cloud__slug="international", slug="eu-west-1").pk
    resource = Resource.objects.filter(tenant=estate["home"]).first()
    urls = [u.format(region=region, resource=resource.pk) for u in PAGES]
    if username == "tenant-member":
        urls = [u for u in urls if not u.startswith("/sync")]
    for url in urls:  # warm the caches (placement caches region profiles per estate version)
        queries(client, url)
    before = {url: queries(client, url) for url in urls}
    _grow(estate, resource)
    after = {url: queries(client, url) for url in urls}
    assert after == before, {u: (before[u], after[u]) for u in urls if before[u] != after[u]}
    assert max(after.values()) <= LIMIT, after
