"""What compliance evaluates and how it classifies (issue 10, items 3 and 5).

Resources carry the providers' own JSON, as a sync stores it in ``Resource.attrs`` (shapes from Nova 2.100,
Cinder 3.71, Glance v2 and Neutron, trimmed): classification is read from tags AND from the ``souverain:*``
metadata or properties of every kind that has them, and only kinds that hold data are evaluated.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory import kinds
from souverain.inventory.models import Resource
from souverain.policy.compliance import evaluate
from souverain.policy.models import Violation

# The day after eu-west-1's HDS certificate expired: health data there is denied whoever its tenant is.
ON = dt.date(2026, 5, 16)
INTERNATIONAL = "international/eu-west-1"
HDS = "hds.certificate"
_ids = itertools.count()


def nova_server(metadata: dict[str, str] | None = None, tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": "9168b536-cd40-4630-b43f-b259807c6e87", "name": "db-1", "status": "ACTIVE",
        "tenant_id": "6f70656e737461636b20342065766572", "user_id": "fake",
        "metadata": metadata or {}, "tags": tags or [],
        "flavor": {"vcpus": 1, "ram": 512, "disk": 1, "ephemeral": 0, "swap": 0, "original_name": "m1.tiny",
                   "extra_specs": {}},
        "image": {"id": "70a599e0-31e7-49b7-b260-868f441e862b", "properties": {"os_distro": "debian"}},
        "addresses": {}, "OS-EXT-STS:task_state": None, "OS-EXT-AZ:availability_zone": "nova",
        "created": "2026-11-20T10:00:00Z", "updated": "2026-11-20T10:01:00Z",
    }


def cinder_volume(metadata: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "id": "6edbc2f4-1507-44f8-ac0d-eed1d2608d38", "name": "data", "status": "in-use", "size": 10,
        "metadata": metadata or {}, "os-vol-tenant-attr:tenant_id": "bab7d5c60cd041a0a36f7c4b6e1dd978",
        "volume_type": "lvmdriver-1", "bootable": "false", "attachments": [],
        "volume_image_metadata": {}, "updated_at": "2026-11-20T10:00:00.000000",
    }


def glance_image(**properties: str) -> dict[str, Any]:
    return {
        "id": "1bea47ed-f6a9-463b-b423-14b9cca9ad27", "name": "patients-export", "status": "active",
        "visibility": "private", "owner": "bab7d5c60cd041a0a36f7c4b6e1dd978", "tags": [], "disk_format": "qcow2",
        "container_format": "bare", "min_disk": 0, "min_ram": 0, "os_hidden": False, "protected": False,
        "size": 1024, "updated_at": "2026-11-20T10:00:00Z", **properties,
    }


def resource(kind: str, attrs: dict[str, Any], tenant=None, region_key: str = INTERNATIONAL) -> Resource:
    cloud, slug = region_key.split("/")
    region = Region.objects.select_related("cloud").get(cloud__slug=cloud, slug=slug)
    info = kinds.kind(kind)
    now = timezone.now()
    return Resource.objects.create(
        kind=kind, cloud=region.cloud, region=region, tenant=tenant, external_id=f"ext-{next(_ids)}",
        name=kinds.name_of(info, attrs) or f"{kind}-{next(_ids)}", status=kinds.status_of(info, attrs),
        attrs=attrs, attrs_hash="x", tags=kinds.tags_of(attrs), first_seen=now, last_seen=now,
    )


def open_rules(res: Resource) -> set[str]:
    return set(Violation.objects.filter(resource=res, resolved_at__isnull=True).values_list("rule", flat=True))


@pytest.mark.django_db
def test_classes_set_as_server_metadata_raise_violations_like_tags(example_estate):
    by_metadata = resource("server", nova_server({"souverain:classes": "health", "owner": "dba"}))
    # Same label, other metadata: the same equivalence class (only souverain:* keys are read).
    sibling = resource("server", nova_server({"souverain:classes": "health", "owner": "web"}))
    by_tag = resource("server", nova_server(tags=["souverain:classes=health"]))
    unlabelled = resource("server", nova_server({"owner": "dba", "backup": "daily"}))
    result = evaluate(on=ON)
    assert HDS in open_rules(by_metadata)
    assert open_rules(by_metadata) == open_rules(sibling) == open_rules(by_tag)
    assert open_rules(unlabelled) == set()
    assert result.classes == 3  # unlabelled, tagged, and the two labelled by metadata together


@pytest.mark.django_db
def test_volume_metadata_and_image_properties_classify_too(example_estate):
    volume = resource("volume", cinder_volume({"souverain:classes": "health"}))
    image = resource("image", glance_image(**{"souverain:classes": "health"}))
    plain_volume = resource("volume", cinder_volume({"purpose": "scratch"}))
    plain_image = resource("image", glance_image(os_distro="debian"))
    evaluate(on=ON)
    assert HDS in open_rules(volume)
    assert HDS in open_rules(image)
    assert open_rules(plain_image) == open_rules(plain_volume) == set()


@pytest.mark.django_db
def test_metadata_requirements_are_read_too(example_estate):
    eu_only = resource("server", nova_server({"souverain:eu_only": "true"}), region_key="international/ap-southeast-1")
    evaluate(on=ON)
    assert "requirements.eu_only" in open_rules(eu_only)


@pytest.mark.django_db
def test_only_kinds_that_hold_data_are_evaluated_and_others_lose_their_violations(example_estate):
    from souverain.tenancy.models import Tenant

    # Health data by default: every object of this tenant that holds data is misplaced in eu-west-1.
    hospital = Tenant.objects.create(slug="hospital", name="Hospital", default_data_classes=["health"])
    server = resource("server", nova_server(), tenant=hospital)
    infrastructure = [
        resource("security_group_rule", {"id": "r1", "direction": "ingress", "protocol": "tcp",
                                         "port_range_min": 22, "port_range_max": 22,
                                         "remote_ip_prefix": "0.0.0.0/0", "project_id": "p"}, tenant=hospital),
        resource("quota", {"project_id": "p", "compute": {"cores": 20}, "network": {"port": 500}}, tenant=hospital),
        resource("usage", {"project_id": "p", "compute": {"cores": {"in_use": 2}}}, tenant=hospital),
        resource("project", {"id": "p", "name": "ministere-prod", "enabled": True}, tenant=hospital),
        resource("port", {"id": "port-1", "name": "", "status": "ACTIVE", "project_id": "p", "tags": []},
                 tenant=hospital),
    ]
    # What earlier passes opened on infrastructure objects, before they were told apart.
    now = timezone.now()
    for res in infrastructure:
        Violation.objects.create(resource=res, tenant=hospital, region=res.region, rule=HDS, severity="critical",
                                 message="old noise", first_seen=now, last_seen=now)
    result = evaluate(on=ON)
    assert HDS in open_rules(server)
    assert all(open_rules(res) == set() for res in infrastructure)
    assert result.resolved == len(infrastructure)
    assert result.resources == 1  # the resources evaluated: the server alone


def test_the_data_flag_covers_the_kinds_that_hold_data():
    assert set(kinds.DATA_KINDS) == {"server", "volume", "snapshot", "image", "container"}
    assert {k.name for k in kinds.KINDS if k.labels_at is not None} == {"server", "volume", "snapshot", "image"}
