"""The inventory as one table per kind, with the columns that kind needs (issue 10, item 16): servers with status,
flavor, addresses, project, region, classes and compliance; volumes with size, type and what they are attached to;
… beside the all-kinds search. The API's JSON of each object (as Nova, Cinder, Neutron and Glance return it) is
what the inventory stores; these tests write it as those services do."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.kinds import KINDS
from souverain.inventory.models import Resource
from souverain.policy.models import Violation

from .factories import bulk_resources
from .test_i18n import PO, read_po

pytestmark = pytest.mark.django_db

SERVER = {
    "id": "6f1c0a52-0000-4000-8000-000000000001", "name": "web-2", "status": "ACTIVE", "tenant_id": "p-ministere",
    "flavor": {"original_name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80},
    "addresses": {"private": [{"addr": "10.0.0.12", "version": 4, "OS-EXT-IPS:type": "fixed"},
                              {"addr": "172.24.4.33", "version": 4, "OS-EXT-IPS:type": "floating"}]},
    "OS-EXT-AZ:availability_zone": "nova", "metadata": {"souverain:classes": "health,personal"}, "tags": ["prod"],
}
VOLUME = {
    "id": "0b9e7c1e-0000-4000-8000-000000000002", "name": "web-2-data", "status": "in-use", "size": 40,
    "volume_type": "ceph-ssd", "bootable": "false", "os-vol-tenant-attr:tenant_id": "p-ministere",
    "attachments": [{"server_id": SERVER["id"], "device": "/dev/vdb", "attachment_id": "a1"}], "metadata": {},
}
PROJECT = {"id": "p-ministere", "name": "ministere-prod", "enabled": True, "domain_id": "default"}


def write(region: Region, kind: str, item: dict[str, Any], tenant: Any = None) -> Resource:
    now = timezone.now()
    return Resource.objects.create(
        kind=kind, cloud=region.cloud, region=region, project_id=item.get("tenant_id") or item.get(
            "os-vol-tenant-attr:tenant_id") or item.get("id"), tenant=tenant, external_id=item["id"],
        name=item["name"], status=str(item.get("status", "")).lower(), attrs=item, attrs_hash=item["id"][:32],
        tags=item.get("tags") or [], first_seen=now, last_seen=now)


@pytest.fixture
def servers(estate: dict[str, Any]) -> dict[str, Resource]:
    region = Region.objects.get(cloud__slug="nimbus", slug="eu-paris-1")
    server = write(region, "server", SERVER, estate["home"])
    volume = write(region, "volume", VOLUME, estate["home"])
    write(region, "project", PROJECT, estate["home"])
    now = timezone.now()
    Violation.objects.create(resource=server, tenant=estate["home"], region=region, rule="hds.certificate",
                             severity="high", message="no HDS", reason=[], first_seen=now, last_seen=now)
    Violation.objects.create(resource=server, tenant=estate["home"], region=region, rule="secnumcloud.qualification",
                             severity="critical", message="no SNC", reason=[], first_seen=now, last_seen=now)
    return {"server": server, "volume": volume}


def row_of(page: str, name: str) -> str:
    return re.search(rf"<tr>(?:(?!</tr>).)*>{re.escape(name)}</a>.*?</tr>", page, re.S).group(0)


def cell(row: str, column: str) -> str:
    found = re.search(rf'<td class="{column}"[^>]*>(.*?)</td>', row, re.S)
    assert found, f"no {column} column in {row}"
    return re.sub(r"\s+", " ", found.group(1)).strip()


def test_servers_table_has_the_columns_a_server_needs(login: Any, servers: dict[str, Resource]) -> None:
    page = login("operator-admin").get("/inventory/servers/").content.decode()
    headers = [next(c for c in classes.split() if c not in {"orderable", "asc", "desc"})
               for classes in re.findall(r'<th scope="col" class="([^"]+)"', page)]
    assert headers[:4] == ["name", "status", "flavor", "addresses"]
    assert {"project", "region", "classes", "compliance"} <= set(headers) and "kind" not in headers
    row = row_of(page, "web-2")
    assert cell(row, "status") == "active" and cell(row, "flavor") == "m1.large"
    assert "10.0.0.12, 172.24.4.33" in cell(row, "addresses") and "private" in cell(row, "addresses")
    assert cell(row, "project") == "ministere-prod"  # the project's name, not its id
    assert "eu-paris-1" in cell(row, "region")
    assert re.findall(r'<span class="tag">(\w+)</span>', cell(row, "classes")) == ["health", "personal"]
    compliance = cell(row, "compliance")
    assert 'class="sev sev-critical"' in compliance and "2</a>" in compliance  # the worst first, and the count
    # Only servers: other kinds have their own tables.
    assert set(re.findall(r'<a href="/inventory/\d+/">([^<]+)</a>', page)) <= set(
        Resource.objects.filter(kind="server").values_list("name", flat=True))


def test_volumes_table_shows_size_type_and_the_server_it_is_attached_to(login: Any,
                                                                         servers: dict[str, Resource]) -> None:
    page = login("tenant-member").get("/inventory/volumes/").content.decode()
    row = row_of(page, "web-2-data")
    assert cell(row, "size") == "40 GiB" and cell(row, "volume_type") == "ceph-ssd"
    attached = cell(row, "attached_to")
    assert f'href="/inventory/{servers["server"].pk}/"' in attached and ">web-2<" in attached
    assert cell(row, "compliance").endswith("compliant</span>")


def test_every_kind_has_its_page_and_tab_and_tenant_users_see_their_tenant_only(login: Any, estate: Any) -> None:
    client = login("tenant-member")
    own = set(Resource.objects.filter(tenant=estate["home"]).values_list("name", flat=True))
    for info in KINDS:
        response = client.get(f"/inventory/{info.listing}/")
        assert response.status_code == 200, info.listing
        page = response.content.decode()
        assert re.search(rf'<a href="/inventory/{info.listing}/" aria-current="page" data-kind="{info.name}">', page)
        names = set(re.findall(r'<a href="/inventory/\d+/">([^<]+)</a>', page))
        assert names <= own, info.listing
    everything = client.get("/inventory/").content.decode()
    assert '<a href="/inventory/" aria-current="page">All kinds</a>' in everything


def test_kind_pages_keep_filters_export_and_paging(login: Any, estate: Any) -> None:
    client = login("operator-admin")
    servers = Resource.objects.filter(kind="server", gone_at__isnull=True)
    page = client.get("/inventory/servers/?cloud=nimbus&sort=-name").content.decode()
    assert 'id="id_kind"' not in page  # the kind is the page's
    export = re.search(r'href="(/api/inventory/resources/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "kind=server" in export and "cloud=nimbus" in export and "ordering=-name" in export
    names = re.findall(r'<a href="/inventory/\d+/">([^<]+)</a>', page)
    assert names and names == sorted(names, reverse=True)
    assert len(names) == servers.filter(cloud__slug="nimbus").count() or len(names) == 50


def test_kind_pages_in_french(login: Any, servers: dict[str, Resource]) -> None:
    client = login("auditor")
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = client.get("/inventory/servers/").content.decode()
    for text in ("Gabarit", "Adresses", "Conformité", "Serveur", "Instantané de volume", "Tous les types"):
        assert text in page, text
    catalogue = read_po(PO)
    assert all((None, info.label) in catalogue for info in KINDS)


def test_a_kind_page_reads_few_rows_and_a_fixed_number_of_queries(login: Any, servers: dict[str, Resource],
                                                                    estate: Any) -> None:
    client = login("operator-admin")

    def queries(url: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in captured]

    for index, url in enumerate(("/inventory/servers/", "/inventory/volumes/", "/inventory/networks/")):
        queries(url)
        before = len(queries(url))
        bulk_resources(700, tenants=[estate["home"], estate["foreign"], None], prefix=f"more{index}")
        after = queries(url)
        assert len(after) == before, (url, before, len(after))
        # attrs (the API's JSON) are read for the page's rows only: the query that reads them is bounded by ids.
        reading = [sql for sql in after if '"attrs"' in sql and "inventory_resource" in sql]
        assert reading and all(" IN (" in sql for sql in reading), reading
