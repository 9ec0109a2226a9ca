"""The inventory API: filters, ordering, pagination, tenant isolation, history and CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from ..models import ResourceChange
from .factories import make_cloud, make_resource


@pytest.fixture
def estate(tenants):
    alpha, beta = make_cloud("alpha", regions=("a1", "a2")), make_cloud("beta")
    home, foreign = tenants["home"], tenants["foreign"]
    rows = {
        "web-1": make_resource(alpha, external_id="s1", name="web-1", tenant=home, tags=["prod", "web"]),
        "web-2": make_resource(alpha, external_id="s2", name="web-2", tenant=home, status="shutoff", tags=["web"]),
        "db-1": make_resource(alpha, external_id="s3", name="db-1", tenant=foreign, tags=["prod"]),
        "data": make_resource(beta, kind="volume", external_id="v1", name="data", tenant=home, status="available"),
        "old": make_resource(beta, external_id="s9", name="old-vm", tenant=home, gone=True),
        "orphan": make_resource(beta, external_id="s8", name="orphan", project_id="unmapped"),
    }
    return rows


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["name"] for r in response.json()["results"]]


@pytest.mark.django_db
def test_filters_combine_and_the_list_shows_present_resources_by_default(api_as, estate):
    api = api_as("operator-ops")
    url = "/api/inventory/resources/"
    assert names(api.get(url)) == ["data", "db-1", "orphan", "web-1", "web-2"]
    assert names(api.get(url, {"cloud": "alpha", "status": "ACTIVE"})) == ["db-1", "web-1"]
    assert names(api.get(url, {"kind": "server,volume", "cloud": "beta"})) == ["data", "orphan"]
    assert names(api.get(url, {"kind": "volumes"})) == ["data"]
    assert names(api.get(url, {"tag": "prod"})) == ["db-1", "web-1"]
    assert names(api.get(url + "?tag=prod&tag=web")) == ["web-1"]
    assert names(api.get(url, {"q": "WEB"})) == ["web-1", "web-2"]
    assert names(api.get(url, {"q": "v1"})) == ["data"]  # the cloud's own id
    assert names(api.get(url, {"tenant": "other-corp"})) == ["db-1"]
    assert names(api.get(url, {"region": "alpha/a1"})) == ["db-1", "web-1", "web-2"]
    assert names(api.get(url, {"mapped": "false"})) == ["orphan"]
    assert names(api.get(url, {"presence": "gone"})) == ["old-vm"]
    assert len(names(api.get(url, {"presence": "all"}))) == 6
    assert names(api.get(url, {"ordering": "-name", "limit": 2})) == ["web-2", "web-1"]
    page = api.get(url, {"limit": 2, "offset": 2}).json()
    assert page["count"] == 5 and [r["name"] for r in page["results"]] == ["orphan", "web-1"]
    row = api.get(url, {"q": "web-1"}).json()["results"][0]
    assert row["cloud"] == "alpha" and row["region"] == "a1" and row["tenant"] == "ministere" and "attrs" not in row
    assert "attrs" in api.get(url, {"q": "web-1", "attrs": "true"}).json()["results"][0]


@pytest.mark.django_db
def test_tenant_users_see_their_tenant_only(api_as, estate):
    home = api_as("tenant-member")
    assert names(home.get("/api/inventory/resources/")) == ["data", "web-1", "web-2"]
    assert home.get(f"/api/inventory/resources/{estate['db-1'].pk}/").status_code == 404
    assert home.get(f"/api/inventory/resources/{estate['db-1'].pk}/history/").status_code == 404
    assert names(api_as("foreign-admin").get("/api/inventory/resources/")) == ["db-1"]
    csv_rows = list(csv.DictReader(io.StringIO(
        b"".join(home.get("/api/inventory/resources/?format=csv").streaming_content).decode())))
    assert sorted(r["name"] for r in csv_rows) == ["data", "web-1", "web-2"]
    assert home.post("/api/inventory/project-mappings/", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_history_lists_changes_newest_first_and_gone_resources_stay_reachable(api_as, estate):
    old = estate["old"]
    ResourceChange.objects.create(resource=old, time=timezone.now() - timezone.timedelta(hours=1), action="created")
    ResourceChange.objects.create(resource=old, time=timezone.now(), action="updated",
                                  changes={"status": {"before": "ACTIVE", "after": "SHUTOFF"}})
    api = api_as("auditor")
    detail = api.get(f"/api/inventory/resources/{old.pk}/").json()
    assert detail["gone"] is True and detail["attrs"]["id"] == "s9"
    history = api.get(f"/api/inventory/resources/{old.pk}/history/").json()
    assert [h["action"] for h in history["results"]] == ["updated", "created"]
    assert history["results"][0]["changes"]["status"]["after"] == "SHUTOFF"


@pytest.mark.django_db
def test_csv_export_streams_every_matching_row(api_as, estate):
    response = api_as("operator-admin").get("/api/inventory/resources/", {"format": "csv", "cloud": "alpha"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["name"] for r in rows) == ["db-1", "web-1", "web-2"]
    web = next(r for r in rows if r["name"] == "web-1")
    assert (web["cloud"], web["tenant"], web["tags"], web["kind"]) == ("alpha", "ministere", "prod;web", "server")


@pytest.mark.django_db
def test_project_mappings_are_managed_by_operator_admins_and_retag_resources(api_as, estate, tenants):
    admin = api_as("operator-admin")
    created = admin.post("/api/inventory/project-mappings/",
                         {"cloud": "beta", "project_id": "unmapped", "tenant": "other-corp"}, format="json")
    assert created.status_code == 201, created.content
    estate["orphan"].refresh_from_db()
    assert estate["orphan"].tenant == tenants["foreign"]
    assert api_as("operator-ops").post("/api/inventory/project-mappings/", {}, format="json").status_code == 403


@pytest.mark.django_db
def test_sync_states_are_for_operators_and_auditors(api_as, estate):
    assert api_as("auditor").get("/api/inventory/sync-states/").status_code == 200
    assert api_as("tenant-admin").get("/api/inventory/sync-states/").status_code == 403


@pytest.mark.django_db
def test_names_sort_naturally_through_the_stored_key(api_as, estate):
    from ..models import Resource
    from ..natural import natural_key

    alpha = estate["web-1"].cloud
    for i, name in enumerate(["web-10", "Web-3", "web-02b", "web-100"]):
        make_resource(alpha, external_id=f"n{i}", name=name)
    # Written through save() and bulk_create alike: the key is computed from the name at write time.
    Resource.objects.bulk_create([Resource(kind="server", cloud=alpha, region=alpha.regions.first(),
                                           external_id="bulk", name="web-9", attrs={}, attrs_hash="",
                                           first_seen=timezone.now(), last_seen=timezone.now())])
    assert Resource.objects.get(external_id="bulk").name_sort == natural_key("web-9") == "web-019"
    api = api_as("operator-ops")
    url = "/api/inventory/resources/"
    expected = ["web-1", "web-2", "web-02b", "Web-3", "web-9", "web-10", "web-100"]
    assert names(api.get(url, {"q": "web", "limit": 50})) == expected
    assert names(api.get(url, {"q": "web", "ordering": "-name"})) == expected[::-1]
    # Paging in that order neither repeats nor skips a row.
    pages = [names(api.get(url, {"q": "web", "ordering": "name", "limit": 3, "offset": o})) for o in (0, 3, 6)]
    assert sum(pages, []) == expected
