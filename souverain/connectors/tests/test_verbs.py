"""The typed verbs send what each API expects and return the API's own dicts."""

from __future__ import annotations

import pytest
import requests_mock

from souverain.connectors import ConnectorError, NotFound, Timeout
from souverain.connectors.openstack import OpenStackConnector

from .fakecloud import CINDER, GLANCE, NEUTRON, NOVA, SWIFT


def test_create_server_sends_nova_fields_and_the_microversion(member: OpenStackConnector,
                                                              http: requests_mock.Mocker) -> None:
    route = http.post(NOVA + "/servers", status_code=202, json={"server": {"id": "s1", "adminPass": "x"}})

    created = member.create_server("vm", flavor_id="f1", image_id="i1", networks="none", min_count=3,
                                   metadata={"owner": "me"})

    assert created == {"id": "s1", "adminPass": "x"}
    assert route.request_history[-1].json() == {"server": {
        "name": "vm", "flavorRef": "f1", "imageRef": "i1", "networks": "none", "min_count": 3, "max_count": 3,
        "metadata": {"owner": "me"}}}
    assert route.request_history[-1].headers["OpenStack-API-Version"] == "compute 2.96"  # ours is 2.100: capped


def test_wait_for_server_polls_until_the_status(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(NOVA + "/servers/s1", [{"json": {"server": {"id": "s1", "status": s}}} for s in ("BUILD", "ACTIVE")])

    assert member.wait_for_server("s1", interval=0.01)["status"] == "ACTIVE"


def test_wait_for_server_stops_on_error_and_on_timeout(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(NOVA + "/servers/bad", json={"server": {"id": "bad", "status": "ERROR"}})
    http.get(NOVA + "/servers/slow", json={"server": {"id": "slow", "status": "BUILD"}})

    with pytest.raises(ConnectorError, match="went to ERROR"):
        member.wait_for_server("bad", interval=0.01)
    with pytest.raises(Timeout, match="still BUILD"):
        member.wait_for_server("slow", timeout=0.05, interval=0.01)


def test_wait_for_delete_returns_once_not_found(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(CINDER + "/volumes/v1", [{"json": {"volume": {"id": "v1", "status": "deleting"}}},
                                      {"status_code": 404, "json": {"itemNotFound": {"message": "gone"}}}])

    member.wait_for_delete("volumes", "v1", interval=0.01)

    with pytest.raises(ValueError):
        member.wait_for_delete("quotas", "p1")


def test_create_image_registers_then_uploads(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    create = http.post(GLANCE + "/images", status_code=201, json={"id": "i1", "status": "queued"})
    upload = http.put(GLANCE + "/images/i1/file", status_code=204)
    http.get(GLANCE + "/images/i1", json={"id": "i1", "status": "active", "size": 4})

    image = member.create_image("tiny", data=b"\0\0\0\0", visibility="private")

    assert image["status"] == "active"
    assert create.request_history[-1].json() == {"name": "tiny", "disk_format": "raw", "container_format": "bare",
                                          "visibility": "private"}
    assert upload.request_history[-1].body == b"\0\0\0\0"
    assert upload.request_history[-1].headers["Content-Type"] == "application/octet-stream"


def test_update_image_is_a_json_patch(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(GLANCE + "/images/i1", json={"id": "i1", "name": "old"})
    patch = http.patch(GLANCE + "/images/i1", json={"id": "i1", "name": "new", "purpose": "test"})

    member.update_image("i1", name="new", purpose="test")

    assert patch.request_history[-1].headers["Content-Type"] == "application/openstack-images-v2.1-json-patch"
    assert patch.request_history[-1].json() == [{"op": "replace", "path": "/name", "value": "new"},
                                         {"op": "add", "path": "/purpose", "value": "test"}]


def test_neutron_and_cinder_bodies_are_wrapped_and_unwrapped(member: OpenStackConnector,
                                                             http: requests_mock.Mocker) -> None:
    subnet = http.post(NEUTRON + "/subnets", status_code=201, json={"subnet": {"id": "sn1", "cidr": "10.0.0.0/24"}})
    rule = http.post(NEUTRON + "/security-group-rules", status_code=201, json={"security_group_rule": {"id": "r1"}})
    fip = http.put(NEUTRON + "/floatingips/f1", json={"floatingip": {"id": "f1", "port_id": None}})
    volume = http.post(CINDER + "/volumes", status_code=202, json={"volume": {"id": "v1", "status": "creating"}})

    assert member.create_subnet("n1", cidr="10.0.0.0/24")["id"] == "sn1"
    assert member.create_security_group_rule("sg1", protocol="tcp", port_range_min=22, port_range_max=22) == {
        "id": "r1"}
    assert member.update_floating_ip("f1", port_id=None)["port_id"] is None
    assert member.create_volume(1, name="data")["status"] == "creating"

    assert subnet.request_history[-1].json() == {"subnet": {"network_id": "n1", "cidr": "10.0.0.0/24", "ip_version": 4}}
    assert rule.request_history[-1].json() == {"security_group_rule": {
        "security_group_id": "sg1", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22}}
    assert fip.request_history[-1].json() == {"floatingip": {"port_id": None}}  # an explicit None is sent: it detaches
    assert volume.request_history[-1].json() == {"volume": {"size": 1, "name": "data"}}


def test_router_interfaces(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    add = http.put(NEUTRON + "/routers/r1/add_router_interface", json={"id": "r1", "subnet_id": "sn1"})

    assert member.add_interface_to_router("r1", subnet_id="sn1")["subnet_id"] == "sn1"
    assert add.request_history[-1].json() == {"subnet_id": "sn1"}
    with pytest.raises(ValueError):
        member.remove_interface_from_router("r1")


def test_quotas_usage_and_set_quotas_route_each_limit_to_its_service(admin: OpenStackConnector,
                                                                     http: requests_mock.Mocker) -> None:
    http.get(NOVA + "/os-quota-sets/p1", json={"quota_set": {"id": "p1", "instances": 10, "cores": 20}})
    http.get(CINDER + "/os-quota-sets/p1", json={"quota_set": {"id": "p1", "volumes": 10}})
    http.get(NEUTRON + "/quotas/p1", json={"quota": {"network": 100, "port": 500}})
    nova = http.put(NOVA + "/os-quota-sets/p1", json={"quota_set": {"instances": 0, "cores": 20}})
    neutron = http.put(NEUTRON + "/quotas/p1", json={"quota": {"network": 0, "port": 500}})
    http.get(NOVA + "/os-quota-sets/p1/detail", json={"quota_set": {"instances": {"limit": 0, "in_use": 1}}})
    cinder_usage = http.get(CINDER + "/os-quota-sets/p1?usage=True", json={"quota_set": {"volumes": {"in_use": 2}}})
    http.get(NEUTRON + "/quotas/p1/details", json={"quota": {"network": {"limit": 0, "used": 1}}})

    after = admin.set_quotas("p1", instances=0, network=0)

    assert after == {"compute": {"instances": 0, "cores": 20}, "network": {"network": 0, "port": 500}}
    assert nova.request_history[-1].json() == {"quota_set": {"instances": 0}}
    assert neutron.request_history[-1].json() == {"quota": {"network": 0}}
    assert admin.usage("p1") == {"compute": {"instances": {"limit": 0, "in_use": 1}},
                                 "block-storage": {"volumes": {"in_use": 2}},
                                 "network": {"network": {"limit": 0, "used": 1}}}
    assert cinder_usage.called
    with pytest.raises(ValueError, match="unknown"):
        admin.set_quotas("p1", unicorns=1)
    admin.set_quotas("p1", cores=1)
    assert nova.call_count == 2 and nova.request_history[-1].json() == {"quota_set": {"cores": 1}}
    nova_reads = [r for r in http.request_history if r.method == "GET" and r.url == NOVA.lower() + "/os-quota-sets/p1"]
    assert len(nova_reads) == 1  # the limits' names are read once per connector


def test_projects_are_updated_with_patch(admin: OpenStackConnector, http: requests_mock.Mocker) -> None:
    from .fakecloud import KEYSTONE_PROJECTS

    route = http.patch(KEYSTONE_PROJECTS + "/p1", json={"project": {"id": "p1", "description": "d"}})

    assert admin.update_project("p1", description="d")["description"] == "d"
    assert route.request_history[-1].json() == {"project": {"description": "d"}}


def test_containers_on_a_cloud_with_swift(make_connector, http: requests_mock.Mocker) -> None:
    connector, _ = make_connector(object_store=True)
    put = http.put(SWIFT + "/bucket", status_code=201)
    http.head(SWIFT + "/bucket", status_code=204,
              headers={"X-Container-Object-Count": "2", "X-Container-Bytes-Used": "10"})
    http.delete(SWIFT + "/bucket", [{"status_code": 204}, {"status_code": 404}])

    assert connector.create_container("bucket", **{"X-Container-Read": ".r:*"}) == {
        "name": "bucket", "count": 2, "bytes": 10}
    assert put.request_history[-1].headers["X-Container-Read"] == ".r:*"
    connector.delete_container("bucket")
    with pytest.raises(NotFound):
        connector.delete_container("bucket", ignore_missing=False)
