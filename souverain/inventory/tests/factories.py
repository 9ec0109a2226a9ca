"""Factories for inventory tests (and the route-walking test's world): clouds, resources, fake connectors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from django.utils import timezone

from souverain.connectors import ConnectorError
from souverain.connectors.openstack import OpenStackConnector
from souverain.estate.models import Cloud, LegalEntity, Region
from souverain.jobs.models import Job
from souverain.tenancy.models import Tenant

from ..models import ProjectMapping, Resource, ResourceChange, SyncState
from ..services import digest


def make_cloud(slug: str = "alpha", regions: tuple[str, ...] = ("r1",), kind: str = "openstack") -> Cloud:
    operator, _ = LegalEntity.objects.get_or_create(slug="test-operator", defaults={"name": "Op", "country": "FR"})
    cloud = Cloud.objects.create(slug=slug, name=slug.title(), kind=kind, clouds_yaml_entry=slug, operator=operator)
    for region in regions:
        Region.objects.create(cloud=cloud, slug=region, name=region)
    return cloud


def write_clouds_yaml(directory: Path, *entries: str) -> Path:
    """A clouds.yaml with these entries (placeholder credentials): what ``credentials.locate`` looks for."""
    path = directory / "clouds.yaml"
    clouds = {name: {"auth": {"auth_url": "http://127.0.0.1:9/v3", "username": "u", "password": "p",
                              "project_name": "p", "user_domain_name": "Default", "project_domain_name": "Default"}}
              for name in entries}
    path.write_text(yaml.safe_dump({"clouds": clouds}))
    return path


def make_resource(cloud: Cloud, *, kind: str = "server", external_id: str = "id-1", name: str = "vm",
                  tenant: Tenant | None = None, status: str = "active", project_id: str = "p1",
                  tags: list[str] | None = None, gone: bool = False, **attrs: Any) -> Resource:
    now = timezone.now()
    item = {"id": external_id, "name": name, "status": status.upper(), "project_id": project_id,
            "tags": tags or [], **attrs}
    return Resource.objects.create(
        kind=kind, cloud=cloud, region=cloud.regions.first(), project_id=project_id, tenant=tenant,
        external_id=external_id, name=name, status=status, attrs=item, attrs_hash=digest(item), tags=tags or [],
        first_seen=now, last_seen=now, gone_at=now if gone else None,
    )


def inventory_world(tenants: dict[str, Tenant]) -> None:
    """One object of every inventory and jobs route, some owned by the foreign tenant."""
    cloud = Cloud.objects.filter(kind="openstack").first() or make_cloud("walker")
    if not cloud.regions.exists():
        Region.objects.create(cloud=cloud, slug="walker-1", name="walker-1")
    job = Job.objects.create(kind="inventory.sync", params={"clouds": [], "full": True, "kinds": []})
    home = make_resource(cloud, external_id="home-vm", name="home-vm", tenant=tenants["home"], project_id="p-home")
    foreign = make_resource(cloud, external_id="foreign-vm", name="foreign-vm", tenant=tenants["foreign"],
                            project_id="p-foreign")
    for resource in (home, foreign):
        ResourceChange.objects.create(resource=resource, job=job, time=timezone.now(), action="created")
    ProjectMapping.objects.create(cloud=cloud, project_id="p-foreign", tenant=tenants["foreign"])
    ProjectMapping.objects.create(cloud=cloud, project_id="p-home", tenant=tenants["home"])
    SyncState.objects.create(cloud=cloud, region=cloud.regions.first(), kind="server", status="ok")


class FakeConnector:
    """Just what the sync engine uses of a connector: ``supports`` and ``iter_pages``.

    ``data`` maps connector kinds (``"servers"``) to items; ``changes`` holds what a listing with
    ``changes_since`` returns for a kind (otherwise the full data); ``failing`` raises for a kind, after
    ``fail_after`` pages.
    """

    def __init__(self, data: dict[str, list[dict[str, Any]]] | None = None, *, page_size: int = 2,
                 unsupported: tuple[str, ...] = ("containers",), failing: dict[str, Exception] | None = None,
                 fail_after: int = 0, refuse_since: tuple[str, ...] = ()) -> None:
        self.data = data or {}
        self.refuse_since = refuse_since
        self.changes: dict[str, list[dict[str, Any]]] = {}
        self.page_size = page_size
        self.unsupported = unsupported
        self.failing = failing or {}
        self.fail_after = fail_after
        self.calls: list[tuple[str, datetime | None]] = []

    #: Its data is in OpenStack's JSON: OpenStack's normalised form and incremental listings.
    incremental_kinds = OpenStackConnector.incremental_kinds
    normalise = staticmethod(OpenStackConnector.normalise)

    def supports(self, kind: str) -> bool:
        return kind not in self.unsupported

    def iter_pages(self, kind: str, *, changes_since: datetime | None = None,
                   page_size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        self.calls.append((kind, changes_since))
        if changes_since is not None and kind in self.refuse_since:
            raise ConnectorError("['changed_since'] is invalid attribute for filtering", status=400)
        items = self.changes.get(kind, []) if changes_since is not None and kind in self.changes else \
            self.data.get(kind, [])
        return self._pages(kind, list(items))

    def _pages(self, kind: str, items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        for number, start in enumerate(range(0, len(items) or 1, self.page_size)):
            if kind in self.failing and number >= self.fail_after:
                raise self.failing[kind]
            page = items[start:start + self.page_size]
            if page:
                yield [dict(i) for i in page]
