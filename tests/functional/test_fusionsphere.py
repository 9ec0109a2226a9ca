"""A FusionSphere-type cloud is OpenStack: the OpenStack connector against the real test-bed, configured for one
cloud as a vendor distribution would need it - an older microversion range and extra vendor services in the
catalogue - and its documents still normalise into the registry's form.

How the two vendor traits are made here, on the shared test-bed (never restarted):

- the microversion cap is **client-side**: the cloud's connection config carries ``souverain_max_microversions``
  (compute 2.40, block-storage 3.50: below Nova 2.47's embedded flavor and Cinder 3.60's time filter), as the
  clouds.yaml entry of a FusionSphere cloud would;
- the extra catalogue entries are **real Keystone entries**, created by this test with the admin credentials
  under a unique service type (a vendor "ops" and "backup" service with an endpoint each) and deleted after it.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from souverain.connectors import get_connector, kinds
from souverain.connectors.openstack import OpenStackConnector

CLOUD = "sovereign"
CAPS = {"compute": "2.40", "block-storage": "3.50"}
ESTATE = Path(__file__).parents[2] / "examples/estate/souverain.yaml"


def _connector(config: dict[str, Any], name: str) -> OpenStackConnector:
    connector = get_connector("openstack", config=config, name=name)
    assert isinstance(connector, OpenStackConnector)
    return connector


@pytest.fixture(scope="module")
def admin_config(cloud_entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return copy.deepcopy(cloud_entries[f"{CLOUD}-admin"])


@pytest.fixture
def vendor_services(admin_config: dict[str, Any]) -> Iterator[list[str]]:
    """Two vendor services with an endpoint each in the cloud's Keystone catalogue, removed after the test."""
    admin = _connector(admin_config, f"{CLOUD}-admin")
    identity = admin.connection.identity
    region = admin.region
    suffix = uuid.uuid4().hex[:8]
    made: list[tuple[str, str]] = []  # (service id, endpoint id)
    types = [f"ft-vendor-ops-{suffix}", f"ft-vendor-backup-{suffix}"]
    try:
        for service_type in types:
            service = identity.post("/services", json={"service": {
                "type": service_type, "name": service_type, "description": "FusionSphere-type vendor extension (test)",
                "enabled": True}})
            service.raise_for_status()
            service_id = service.json()["service"]["id"]
            endpoint = identity.post("/endpoints", json={"endpoint": {
                "service_id": service_id, "interface": "public", "region_id": region,
                "url": f"http://127.0.0.1:9/{service_type}/v1", "enabled": True}})
            made.append((service_id, ""))
            endpoint.raise_for_status()
            made[-1] = (service_id, endpoint.json()["endpoint"]["id"])
        yield types
    finally:
        for service_id, endpoint_id in made:
            if endpoint_id:
                identity.delete(f"/endpoints/{endpoint_id}")
            identity.delete(f"/services/{service_id}")


def test_a_fusionsphere_type_cloud_lists_and_normalises_with_a_microversion_cap_and_vendor_services(
        cloud_entries: dict[str, dict[str, Any]], vendor_services: list[str]) -> None:
    # The demo project's member: its listings are its own project's, which other tests do not page through.
    member = copy.deepcopy(cloud_entries[CLOUD])
    plain = _connector(member, CLOUD)
    vendor = _connector({**member, "souverain_max_microversions": CAPS}, "fusionsphere-private")

    # The vendor services are in the catalogue the connector reads, and change nothing of what it lists.
    catalogue = vendor._t.access().service_catalog
    assert all(catalogue.get_endpoints(service_type=t) for t in vendor_services)
    assert {k: vendor.supports(k) for k in vendor.kinds} == {k: plain.supports(k) for k in plain.kinds}

    # The cap holds whatever the cloud advertises; the uncapped connector negotiates higher.
    assert vendor._t.microversion("compute") == (2, 40)
    assert vendor._t.microversion("block-storage") == (3, 50)
    assert plain._t.microversion("compute") > (2, 47)

    # Every kind lists and normalises at the older microversions (unknown fields ignored, flavor not embedded).
    for listing in vendor.kinds:
        if not vendor.supports(listing):
            continue
        for page in vendor.iter_pages(listing):
            for item in page:
                form = kinds.check_normalised(listing, vendor.normalise(listing, item))
                assert form["id"]
                if listing == "servers":
                    assert "original_name" not in (item.get("flavor") or {})  # 2.40: a reference, not embedded
                    assert form.get("flavor") == (item.get("flavor") or {}).get("id")

    # Incremental listings still work: below Cinder 3.60 the connector filters volumes itself instead of asking.
    since = datetime.now(UTC) - timedelta(days=1)
    for listing in ("servers", "volumes"):
        assert isinstance(list(vendor.iter_pages(listing, changes_since=since)), list)


def test_the_example_estate_records_the_distribution_of_its_fusionsphere_cloud() -> None:
    clouds = {c["id"]: c for c in yaml.safe_load(ESTATE.read_text())["clouds"]}
    cloud = clouds["fusionsphere-private"]
    assert cloud["kind"] == "openstack"  # no provider of its own: the OpenStack connector serves it
    assert "FusionSphere-type" in cloud["stack"]["distribution"] and cloud["stack"]["vendor"]
    assert cloud["dedicated_to"] == ["gh-saint-martin"]
