"""The capacity objects of the route-walking test: a public region's and a region of a cloud dedicated to the foreign
tenant, whose zone carries the foreign marker (a home-tenant user must never see it)."""

from __future__ import annotations

from typing import Any

from souverain.estate.models import Cloud, CloudDedication, LegalEntity, Region

from ..services import store
from .factories import capacity_report, provider


def populate(tenants: dict[str, Any]) -> None:
    operator, _ = LegalEntity.objects.get_or_create(slug="walker-capacity-op", defaults={"name": "Op", "country": "FR"})
    public = Cloud.objects.filter(dedicated_to__isnull=True).first() or Cloud.objects.create(
        slug="walker-capacity-public", name="Walker public", kind="openstack", operator=operator)
    region = public.regions.first() or Region.objects.create(cloud=public, slug="walker-pub-1", name="walker-pub-1")
    store(region, capacity_report(provider("home-node", zone="home-zone")))
    private = Cloud.objects.create(slug="walker-capacity-private", name="Walker private", kind="openstack",
                                   operator=operator)
    CloudDedication.objects.create(cloud=private, tenant=tenants["foreign"])
    foreign = Region.objects.create(cloud=private, slug="walker-foreign-1", name="walker-foreign-1")
    store(foreign, capacity_report(provider("foreign-vm-node", zone="Other Corp zone")))
