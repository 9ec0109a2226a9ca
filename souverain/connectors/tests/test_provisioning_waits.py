"""The OpenStack provisioner's waits and quota check: how often it asks the cloud, and which services."""

from __future__ import annotations

import time

import pytest
import requests_mock

from souverain.connectors.openstack import OpenStackConnector
from souverain.connectors.openstack import provisioning as openstack_provisioning
from souverain.connectors.provisioning import ServerSpec

from .fakecloud import GLANCE, NEUTRON, NOVA, PROJECT_ID


def test_waiting_polls_at_growing_intervals_capped_at_one_second(member: OpenStackConnector,
                                                                  http: requests_mock.Mocker,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(openstack_provisioning.time, "sleep", sleeps.append)
    http.get(NOVA + "/servers/s1", [{"json": {"server": {"id": "s1", "status": status}}}
                                    for status in ["BUILD"] * 8 + ["ACTIVE"]])

    server = member.provisioner().wait_for("servers", "s1", "ACTIVE")

    assert server["status"] == "ACTIVE"
    assert sleeps == pytest.approx([0.25, 0.375, 0.5625, 0.84375, 1.0, 1.0, 1.0, 1.0])


def test_a_plain_server_checks_only_novas_quotas(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    provisioner = member.provisioner()
    provisioner._flavors["m1.tiny"] = (time.monotonic(), {"id": "f1", "name": "m1.tiny", "vcpus": 1, "ram": 512})
    nova = http.get(NOVA + f"/os-quota-sets/{PROJECT_ID}/detail", json={"quota_set": {
        "instances": {"limit": 2, "in_use": 2, "reserved": 0}, "cores": {"limit": 10, "in_use": 2, "reserved": 0},
        "ram": {"limit": -1, "in_use": 1024, "reserved": 0}}})

    # Cinder and Neutron are not mocked: a call to either would fail the test.
    shortfalls = provisioner.quota_shortfalls(PROJECT_ID, ServerSpec(name="vm", flavor="m1.tiny", image="i",
                                                                      network="n"))

    assert nova.call_count == 1
    assert [(s.resource, s.asked, s.used, s.limit) for s in shortfalls] == [("instances", 1, 2, 2)]


def test_images_and_networks_found_by_name_are_kept_a_minute(member: OpenStackConnector, http: requests_mock.Mocker,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    images = http.get(GLANCE + "/images?name=tiny", json={"images": [{"id": "i1", "name": "tiny"}]})
    networks = http.get(NEUTRON + "/networks?name=shared", json={"networks": [{"id": "n1", "name": "shared"}]})
    provisioner = member.provisioner()
    now = [1000.0]
    monkeypatch.setattr(openstack_provisioning.time, "monotonic", lambda: now[0])

    for _ in range(3):
        assert provisioner.find_image("tiny")["id"] == "i1" and provisioner.find_network("shared")["id"] == "n1"
    assert (images.call_count, networks.call_count) == (1, 1)
    now[0] += openstack_provisioning.LOOKUP_TTL + 1  # a minute later: asked again
    provisioner.find_image("tiny")
    provisioner.find_network("shared")
    assert (images.call_count, networks.call_count) == (2, 2)
