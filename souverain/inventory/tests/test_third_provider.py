"""A hypothetical third provider (``tests/acme``: one package) is a cloud kind, syncs its own kind and the registry's
servers, and is evaluated by compliance, with no other change anywhere: the kinds come from the one registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from souverain.connectors import NotSupported, get_connector, registry
from souverain.connectors.kinds import unregister_kind
from souverain.estate.models import Cloud
from souverain.inventory import kinds as K
from souverain.inventory.models import Resource, SyncState
from souverain.inventory.services import SyncRun, syncable_clouds

from .factories import make_cloud

pytestmark = pytest.mark.django_db

ENDPOINT = "https://acme.example"
SERVER = {"uid": "a-1", "label": "web-1", "state": "RUNNING", "account": "acct-1", "cpu": 2, "memoryMb": 4096,
          "site": "lyon-a", "labels": {"souverain:data-class": "personal", "team": "web"},
          "modified": "2026-11-30T10:00:00+00:00", "vendorExtra": {"x": 1}}
ZONE = {"zoneId": "z-1", "fqdn": "example.fr.", "account": "acct-1"}


@pytest.fixture
def acme() -> Iterator[Any]:
    from . import acme as package

    registry._providers["acme"] = package.AcmeConnector  # imported once per process: re-register after a clean
    package.DATA[ENDPOINT] = {"servers": [SERVER, {**SERVER, "uid": "a-2", "label": "web-2"}], "dns_zones": [ZONE]}
    from souverain.connectors.kinds import register_kind

    register_kind(package.DNS_ZONE)
    yield package
    package.DATA.clear()
    unregister_kind("dns_zone")
    registry._providers.pop("acme", None)  # only what this test added: other providers stay registered


def test_the_third_provider_registers_its_kind_and_syncs_with_no_other_change(acme: Any) -> None:
    assert "acme" in registry.available_providers()
    assert "dns_zone" in K.BY_NAME and K.kind("dns_zones").label == "DNS zone"

    cloud = make_cloud("acme-private", kind="acme")
    cloud.endpoint = ENDPOINT
    cloud.clouds_yaml_entry = ""
    cloud.set_credentials({"username": "u", "password": "p"})
    cloud.full_clean()  # the estate accepts the kind: it is an installed provider
    cloud.save()
    assert cloud.get_kind_display() == "Acme Cloud"
    assert cloud in syncable_clouds()

    run = SyncRun(job_id=None, reporter=None, full=True, cloud_threads=1, kind_threads=1)
    run.run([cloud])

    servers = {r.name: r for r in Resource.objects.filter(cloud=cloud, kind="server")}
    assert set(servers) == {"web-1", "web-2"}
    web = servers["web-1"]
    assert (web.external_id, web.status, web.project_id) == ("a-1", "running", "acct-1")
    assert web.tags == ["souverain:data-class=personal", "team=web"]
    assert web.attrs["vendorExtra"] == {"x": 1}  # the provider's document, kept whole
    assert web.normalised == {"zone": "lyon-a", "vcpus": 2, "ram": 4096, "labels": SERVER["labels"],
                              "updated": SERVER["modified"]}
    zone = Resource.objects.get(cloud=cloud, kind="dns_zone")
    assert (zone.name, zone.get_kind_display()) == ("example.fr.", "DNS zone")
    states = dict(SyncState.objects.filter(cloud=cloud).values_list("kind", "status"))
    assert states["server"] == states["dns_zone"] == "ok"
    assert states["volume"] == "unsupported"  # a registry kind it does not list

    connector = get_connector("acme", config={"endpoint": ENDPOINT})
    with pytest.raises(NotSupported, match="create_server is not supported by this provider \\(acme\\)"):
        connector.create_server("x", flavor_id="f")


def test_a_cloud_kind_must_be_an_installed_provider_or_a_described_one() -> None:
    cloud = make_cloud("nowhere")
    for kind in ("openstack", "nutanix", "hyperscaler", "vmware"):
        cloud.kind = kind
        cloud.full_clean()
    cloud.kind = "acme"  # not installed outside the fixture above
    with pytest.raises(ValidationError, match="Unknown cloud kind acme"):
        cloud.full_clean()
    assert Cloud._meta.get_field("kind").choices is None
