"""The mobility app's objects in the route walker's world: a saved workload of each tenant (the foreign one's
name carries the foreign marker, so that a leak to another tenant shows)."""

from __future__ import annotations

from typing import Any


def populate(tenants: dict[str, Any]) -> None:
    from souverain.mobility.models import SavedWorkload

    SavedWorkload.objects.create(tenant=tenants["foreign"], name="foreign-vm workload of Other Corp",
                                 descriptor={"name": "foreign-vm", "data_classes": ["personal"]})
    SavedWorkload.objects.create(tenant=tenants["home"], name="ministry workload",
                                 descriptor={"name": "ministry-app", "data_classes": ["diffusion_restreinte"]})
