"""Error mapping against the real services: refused credentials, missing objects, conflicts, quotas, re-auth."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from keystoneauth1.identity import BaseIdentityPlugin

from souverain.connectors import (
    Conflict,
    NotFound,
    QuotaExceeded,
    Timeout,
    Unauthorized,
    get_connector,
)
from souverain.connectors.openstack import OpenStackConnector
from souverain.connectors.retry import RetryPolicy

ONCE = RetryPolicy(attempts=1)


def test_a_wrong_password_is_unauthorized(cloud_entries: dict[str, dict[str, Any]], cloud_name: str) -> None:
    config = copy.deepcopy(cloud_entries[cloud_name])
    config["auth"]["password"] = "not-the-password"
    connector = get_connector("openstack", config=config, name=cloud_name, retry=ONCE)

    with pytest.raises(Unauthorized) as caught:
        list(connector.networks())

    error = caught.value
    assert (error.status, error.cloud, error.region) == (401, cloud_name, config["region_name"])
    assert error.request_id and error.request_id.startswith("req-")  # Keystone's, to find it in its log
    assert "not-the-password" not in str(error) + repr(error)


@pytest.mark.parametrize("kind", ["servers", "flavors", "images", "volumes", "snapshots", "networks", "subnets",
                                  "routers", "ports", "security_groups", "security_group_rules", "floating_ips"])
def test_a_missing_object_is_not_found(conn: OpenStackConnector, admin: OpenStackConnector, kind: str) -> None:
    missing = str(uuid.uuid4())
    single = kind[:-1]
    if kind == "flavors":
        conn = admin  # Nova checks the flavor-manage policy before it looks for the flavor

    with pytest.raises(NotFound) as caught:
        getattr(conn, f"get_{single}")(missing)
    assert caught.value.status == 404 and caught.value.request_id

    getattr(conn, f"delete_{single}")(missing)  # ignore_missing=True by default
    with pytest.raises(NotFound):
        getattr(conn, f"delete_{single}")(missing, ignore_missing=False)


def test_a_missing_project_is_not_found(admin: OpenStackConnector) -> None:
    with pytest.raises(NotFound):
        admin.get_project(uuid.uuid4().hex)


def test_deleting_a_subnet_in_use_is_a_conflict(conn: OpenStackConnector, uid: str,
                                                cleanup: Callable[..., None]) -> None:
    network = conn.create_network(uid)
    cleanup(conn.delete_network, network["id"])
    subnet = conn.create_subnet(network["id"], cidr="192.168.79.0/24")
    cleanup(conn.delete_subnet, subnet["id"])
    port = conn.create_port(network["id"])
    cleanup(conn.delete_port, port["id"])

    with pytest.raises(Conflict) as caught:
        conn.delete_subnet(subnet["id"])
    assert caught.value.status == 409 and caught.value.request_id


def test_exceeding_a_zero_quota_is_quota_exceeded(scratch: OpenStackConnector, scratch_id: str,
                                                  admin: OpenStackConnector, flavor: dict[str, Any],
                                                  image: dict[str, Any]) -> None:
    before = admin.quotas(scratch_id)
    original = {"instances": before["compute"]["instances"], "volumes": before["block-storage"]["volumes"],
                "network": before["network"]["network"]}
    admin.set_quotas(scratch_id, instances=0, volumes=0, network=0)
    try:
        with pytest.raises(QuotaExceeded) as nova:
            scratch.create_server("over", flavor_id=flavor["id"], image_id=image["id"], networks="none")
        with pytest.raises(QuotaExceeded) as cinder:
            scratch.create_volume(1)
        with pytest.raises(QuotaExceeded) as neutron:
            scratch.create_network("over")
    finally:
        admin.set_quotas(scratch_id, **original)

    assert (nova.value.status, cinder.value.status, neutron.value.status) == (403, 413, 409)
    assert all(e.value.request_id for e in (nova, cinder, neutron))
    assert scratch.create_network("within")["name"] == "within"  # restored


def test_an_invalidated_token_is_replaced_transparently(clouds_yaml: object, cloud_name: str,
                                                        http_log: Callable[..., Any]) -> None:
    connector = OpenStackConnector(cloud=cloud_name, retry=ONCE)
    list(connector.networks())
    auth = connector.connection.session.auth
    assert isinstance(auth, BaseIdentityPlugin)
    state = json.loads(str(auth.get_auth_state()))
    state["auth_token"] = "gAAAAABinvalid-token-for-the-test"
    auth.set_auth_state(json.dumps(state))

    with http_log(connector) as sent:
        networks = list(connector.networks())

    assert networks
    statuses = [(method, path.rsplit("/", 1)[-1], status) for method, path, status in sent]
    assert statuses == [("GET", "networks", 401), ("POST", "tokens", 201), ("GET", "networks", 200)]
    assert connector.connection.session.get_token() != "gAAAAABinvalid-token-for-the-test"


def test_a_service_too_slow_to_answer_is_a_timeout(clouds_yaml: object, cloud_name: str) -> None:
    connector = OpenStackConnector(cloud=cloud_name, api_timeout=0.0005, retry=ONCE)

    with pytest.raises(Timeout) as caught:
        list(connector.networks())
    assert caught.value.cloud == cloud_name and caught.value.status is None
