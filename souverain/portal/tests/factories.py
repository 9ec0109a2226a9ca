"""Inventory rows in bulk for the portal's tests and benchmark (``bench/portal_inventory.py``)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.models import Resource, ResourceChange
from souverain.tenancy.models import Tenant

KINDS = ["server", "volume", "port", "network", "security_group", "floating_ip", "image"]
STATUSES = {"server": ["active", "shutoff", "error"], "volume": ["available", "in-use"], "port": ["active", "down"]}
TAGS = ["prod", "dev", "pci", "hds", "backup", "web", "db"]


def bulk_resources(count: int, *, tenants: list[Tenant | None] | None = None, seed: int = 7,
                   batch: int = 5000, prefix: str = "res") -> int:
    """``count`` resources spread over every region of the estate, the given tenants (None: unmapped) and kinds,
    each with one "created" change. Returns how many were written."""
    rng = random.Random(seed)
    regions = list(Region.objects.select_related("cloud").order_by("pk"))
    if not regions:
        raise ValueError("no region: load an estate first")
    owners = tenants if tenants is not None else [None]
    now = timezone.now()
    written = 0
    while written < count:
        rows = []
        for i in range(written, min(written + batch, count)):
            region = regions[(i // len(KINDS)) % len(regions)]
            kind = KINDS[i % len(KINDS)]
            tenant = owners[(i // len(regions)) % len(owners)]
            tags = sorted(rng.sample(TAGS, rng.randint(0, 2)))
            status = rng.choice(STATUSES.get(kind, ["active"]))
            attrs: dict[str, Any] = {"id": f"{prefix}-{i:07d}", "name": f"{prefix}-{kind}-{i:07d}", "status": status,
                                     "tags": tags}
            seen = now - timedelta(minutes=rng.randint(0, 600))
            rows.append(Resource(
                kind=kind, cloud_id=region.cloud_id, region_id=region.pk,
                project_id=f"p-{tenant.slug if tenant else 'x'}",
                tenant=tenant, external_id=attrs["id"], name=attrs["name"], status=status, attrs=attrs,
                attrs_hash=f"{i:032d}", tags=tags, first_seen=seen - timedelta(days=3), last_seen=seen,
            ))
        created = Resource.objects.bulk_create(rows, batch_size=1000)
        ResourceChange.objects.bulk_create(
            [ResourceChange(resource=r, time=r.first_seen, action="created") for r in created if r.pk], batch_size=1000)
        written += len(rows)
    return written
