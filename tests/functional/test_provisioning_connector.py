"""The OpenStack provisioner on the real test-bed: composite creation, adoption after an interruption, rollback,
the cloud's quotas, day-2 actions.

Each test works in a scratch project of its own, so the cloud's raw listings hold exactly what the test made;
the project is swept and deleted afterwards, whatever happened. One cloud is enough here: both run the same
services, and the machine is shared (the connector tests cover both clouds).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from souverain.connectors import ConnectorError
from souverain.connectors.openstack import OpenStackConnector
from souverain.connectors.openstack.provisioning import OpenStackProvisioner
from souverain.connectors.provisioning import (
    FloatingIpSpec,
    NetworkSpec,
    ProvisioningFailed,
    RuleSpec,
    SecurityGroupSpec,
    ServerSpec,
    Shortfall,
    VolumeSpec,
    spec_from_dict,
)


@pytest.fixture(scope="session", params=["sovereign"])
def cloud_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def prov(scratch: OpenStackConnector) -> OpenStackProvisioner:
    provisioner = scratch.provisioner()
    assert isinstance(provisioner, OpenStackProvisioner)
    return provisioner


@pytest.fixture
def ref() -> str:
    return f"ft-{uuid.uuid4().hex[:12]}"


def _server_spec(flavor: dict[str, Any], image: dict[str, Any], **extra: Any) -> ServerSpec:
    return ServerSpec(name="web-1", flavor=flavor["name"], image=image["id"], network="shared", **extra)


class _Killed(BaseException):
    """What a kill -9 looks like from inside: the call stops where it is, nothing runs after."""


def test_server_with_volume_and_floating_ip(scratch: OpenStackConnector, prov: OpenStackProvisioner, ref: str,
                                            flavor: dict[str, Any], image: dict[str, Any]) -> None:
    seen: list[tuple[float, str]] = []
    done = prov.create(_server_spec(flavor, image, volume_gb=1, floating_ip=True), ref,
                       labels={"souverain:classes": "personal,health"},
                       on_progress=lambda fraction, message: seen.append((fraction, message)))

    servers = list(scratch.servers())
    assert [s["id"] for s in servers] == [done.of("server").id]
    server = servers[0]
    assert server["status"] == "ACTIVE"
    assert f"souverain:request={ref}" in server["tags"]
    assert server["metadata"]["souverain:classes"] == "personal,health"
    assert server["metadata"]["souverain:request"] == ref
    volumes = list(scratch.volumes())
    assert [v["id"] for v in volumes] == [done.of("data-volume").id]
    assert volumes[0]["status"] == "in-use"
    assert volumes[0]["attachments"][0]["server_id"] == server["id"]
    assert volumes[0]["metadata"]["souverain:classes"] == "personal,health"
    fips = list(scratch.floating_ips())
    assert [f["id"] for f in fips] == [done.of("floating-ip").id]
    assert fips[0]["port_id"] == prov.server_port(server["id"])["id"]
    assert "souverain:classes=personal,health" in fips[0]["tags"]
    assert f"souverain:request={ref}" in fips[0]["tags"]
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert not any(part.adopted for part in done.parts)

    assert {(p.kind, p.id) for p in prov.adopt(ref)} == {(p.kind, p.id) for p in done.parts}
    rolled_back, left = prov.rollback(ref)
    assert set(rolled_back) == {(p.kind, p.id) for p in done.parts} and left == []
    assert list(scratch.servers()) == [] and list(scratch.volumes()) == [] and list(scratch.floating_ips()) == []


def test_create_again_after_an_interruption_adopts_instead_of_duplicating(
        scratch: OpenStackConnector, prov: OpenStackProvisioner, ref: str, flavor: dict[str, Any],
        image: dict[str, Any]) -> None:
    spec = _server_spec(flavor, image, volume_gb=1)

    def die_after_the_server_post(fraction: float, message: str) -> None:
        if message.startswith("server") and message.endswith("asked"):
            raise _Killed

    with pytest.raises(_Killed):
        prov.create(spec, ref, on_progress=die_after_the_server_post)
    assert len(list(scratch.servers())) == 1  # the POST went through; its worker "died" before recording it

    done = prov.create(spec, ref)

    servers = list(scratch.servers())
    assert [s["id"] for s in servers] == [done.of("server").id] and servers[0]["status"] == "ACTIVE"
    assert [v["id"] for v in scratch.volumes()] == [done.of("data-volume").id]
    assert done.of("server").adopted and done.of("data-volume").adopted
    assert scratch.get_volume(done.of("data-volume").id)["status"] == "in-use"


def test_a_failure_midway_rolls_back_everything_the_request_made(
        scratch: OpenStackConnector, scratch_id: str, admin: OpenStackConnector, prov: OpenStackProvisioner,
        ref: str, flavor: dict[str, Any], image: dict[str, Any]) -> None:
    admin.set_quotas(scratch_id, floatingip=0)

    with pytest.raises(ProvisioningFailed) as failed:
        prov.create(_server_spec(flavor, image, volume_gb=1, floating_ip=True), ref)

    kinds = sorted(kind for kind, _ in failed.value.rolled_back)
    assert kinds == ["servers", "volumes"] and failed.value.left == []
    assert "rolled back: " in str(failed.value) and "servers " in str(failed.value)
    assert "quota" in failed.value.reason.lower()
    assert list(scratch.servers()) == [] and list(scratch.volumes()) == [] and list(scratch.floating_ips()) == []
    assert prov.adopt(ref) == []


def test_quota_shortfalls_give_asked_used_and_limit(
        scratch: OpenStackConnector, scratch_id: str, admin: OpenStackConnector, prov: OpenStackProvisioner,
        flavor: dict[str, Any], image: dict[str, Any]) -> None:
    assert prov.quota_shortfalls(scratch_id, _server_spec(flavor, image, volume_gb=1, floating_ip=True)) == []
    scratch.create_volume(1, name="already-there")
    admin.set_quotas(scratch_id, instances=0, gigabytes=3, floatingip=0)

    assert prov.quota_shortfalls(scratch_id, VolumeSpec(name="big", size_gb=5)) == [Shortfall("gigabytes", 5, 1, 3)]
    server = prov.quota_shortfalls(scratch_id, _server_spec(flavor, image, volume_gb=1, floating_ip=True))
    assert Shortfall("instances", 1, 0, 0) in server and Shortfall("floatingip", 1, 0, 0) in server
    assert "gigabytes" not in {s.resource for s in server}  # 1 + 1 GB fits within 3
    assert str(Shortfall("instances", 1, 0, 0)) == "instances: asked 1, used 0, limit 0"


def test_network_with_router_and_security_group_with_rules(
        scratch: OpenStackConnector, prov: OpenStackProvisioner, ref: str, external_network: dict[str, Any]) -> None:
    net = prov.create(NetworkSpec(name="app", cidr="10.42.0.0/24"), ref, labels={"souverain:classes": "personal"})
    router = scratch.get_router(net.of("router").id)
    assert router["external_gateway_info"]["network_id"] == external_network["id"]
    interfaces = [p for p in scratch.ports() if p["device_id"] == router["id"]
                  and p["device_owner"] == "network:router_interface"]
    assert [p["network_id"] for p in interfaces] == [net.of("network").id]
    assert "souverain:classes=personal" in scratch.get_network(net.of("network").id)["tags"]
    again = prov.create(NetworkSpec(name="app", cidr="10.42.0.0/24"), ref)
    assert {p.id for p in again.parts} == {p.id for p in net.parts} and all(p.adopted for p in again.parts)

    group_ref = f"{ref}-sg"
    rules = (RuleSpec(protocol="tcp", port_min=443, port_max=443, remote_ip_prefix="0.0.0.0/0"),
             RuleSpec(protocol="icmp"))
    group = prov.create(SecurityGroupSpec(name="web", rules=rules), group_ref)
    stored = scratch.get_security_group(group.of("security-group").id)["security_group_rules"]
    assert sorted((r["protocol"], r["port_range_min"]) for r in stored if r["direction"] == "ingress") == [
        ("icmp", None), ("tcp", 443)]
    prov.create(SecurityGroupSpec(name="web", rules=rules), group_ref)
    assert len(scratch.get_security_group(group.of("security-group").id)["security_group_rules"]) == len(stored)

    fip_ref = f"{ref}-fip"
    fip = prov.create(FloatingIpSpec(), fip_ref)
    assert scratch.get_floating_ip(fip.of("floating-ip").id)["floating_network_id"] == external_network["id"]

    for each in (ref, group_ref, fip_ref):
        _, left = prov.rollback(each)
        assert left == []
    assert [n for n in scratch.networks() if n.get("project_id") == scratch.connection.current_project_id] == []
    assert list(scratch.routers()) == [] and list(scratch.floating_ips()) == []
    assert [g["name"] for g in scratch.security_groups()] == ["default"]


def test_day_two_actions(scratch: OpenStackConnector, prov: OpenStackProvisioner, ref: str, flavor: dict[str, Any],
                         image: dict[str, Any], external_network: dict[str, Any]) -> None:
    server_id = prov.create(_server_spec(flavor, image), ref).of("server").id

    assert prov.server_action(server_id, "stop")["status"] == "SHUTOFF"
    assert scratch.get_server(server_id)["status"] == "SHUTOFF"
    assert prov.server_action(server_id, "start")["status"] == "ACTIVE"
    assert prov.server_action(server_id, "reboot")["status"] == "ACTIVE"

    volume = scratch.create_volume(1, name="extra")
    scratch.wait_for_volume(volume["id"])
    prov.server_action(server_id, "attach_volume", volume=volume["id"])
    assert scratch.get_volume(volume["id"])["attachments"][0]["server_id"] == server_id
    prov.server_action(server_id, "detach_volume", volume=volume["id"])
    assert scratch.get_volume(volume["id"])["status"] == "available"

    fip = scratch.create_floating_ip(external_network["id"])
    prov.server_action(server_id, "associate_floating_ip", floating_ip=fip["id"])
    assert scratch.get_floating_ip(fip["id"])["port_id"] == prov.server_port(server_id)["id"]
    prov.server_action(server_id, "disassociate_floating_ip", floating_ip=fip["id"])
    assert scratch.get_floating_ip(fip["id"])["port_id"] is None

    # The test-bed has one compute host and Nova does not resize onto the same host by default: the cloud's
    # refusal must come back as an error naming it, the server left as it was.
    with pytest.raises(ConnectorError, match="was not resized"):
        prov.server_action(server_id, "resize", flavor="m1.tiny")
    after = scratch.get_server(server_id)
    assert after["status"] == "ACTIVE" and after["flavor"]["original_name"] == flavor["name"]

    assert prov.server_action(server_id, "delete") is None
    assert list(scratch.servers()) == []
    with pytest.raises(ValueError, match="action"):
        prov.server_action(server_id, "explode")


def test_specs_from_json_name_the_wrong_field() -> None:
    assert spec_from_dict("volume", {"name": "v", "size_gb": 2}) == VolumeSpec(name="v", size_gb=2)
    group = spec_from_dict("security_group", {"name": "g", "rules": [{"protocol": "tcp", "port_min": 22}]})
    assert isinstance(group, SecurityGroupSpec) and group.rules == (RuleSpec(protocol="tcp", port_min=22),)
    for kind, data, field in (("volume", {"name": "v", "size_gb": 0}, "size_gb"),
                              ("volume", {"name": "v"}, "size_gb"),
                              ("server", {"name": "s", "flavor": "f", "image": "i", "network": "n", "cpu": 2}, "cpu"),
                              ("server", {"name": "", "flavor": "f", "image": "i", "network": "n"}, "name"),
                              ("bucket", {}, "kind")):
        with pytest.raises(ValueError, match=f"^{field}:"):
            spec_from_dict(kind, data)
