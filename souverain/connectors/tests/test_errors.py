"""HTTP answers and transport failures become the connector's errors, with cloud, region and request id."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import requests_mock

from souverain.connectors import (
    Conflict,
    ConnectorError,
    Forbidden,
    NotFound,
    QuotaExceeded,
    Unauthorized,
    Unavailable,
)
from souverain.connectors.openstack import OpenStackConnector

from .fakecloud import CINDER, GLANCE, NEUTRON, NOVA, REGION


def test_str_names_cloud_region_status_and_request_id() -> None:
    error = NotFound("no such server", cloud="sovereign", region="fr-paris-1", request_id="req-1", status=404)

    assert str(error) == "[sovereign/fr-paris-1 HTTP 404 request req-1] no such server"
    assert isinstance(error, ConnectorError) and error.message == "no such server"
    assert issubclass(Forbidden, Unauthorized)


@pytest.mark.parametrize(
    ("method", "url", "answer", "error", "call"),
    [
        ("GET", NOVA + "/servers/nope",
         {"status_code": 404, "json": {"itemNotFound": {"code": 404, "message": "Instance nope could not be found."}},
          "headers": {"x-compute-request-id": "req-nova"}},
         NotFound, lambda c: c.get_server("nope")),
        ("POST", NOVA + "/servers",
         {"status_code": 403, "json": {"forbidden": {"code": 403, "message": "Quota exceeded for instances: "
                                                     "Requested 1, but already used 0 of 0 instances"}},
          "headers": {"x-openstack-request-id": "req-nova", "x-compute-request-id": "req-nova"}},
         QuotaExceeded, lambda c: c.create_server("vm", flavor_id="f", image_id="i")),
        ("POST", NEUTRON + "/networks",
         {"status_code": 409, "json": {"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for "
                                                        "resources: ['network'].", "detail": ""}},
          "headers": {"x-openstack-request-id": "req-neutron"}},
         QuotaExceeded, lambda c: c.create_network("net")),
        ("DELETE", NEUTRON + "/networks/n1",
         {"status_code": 409, "json": {"NeutronError": {"type": "NetworkInUse", "message": "Unable to complete "
                                                        "operation on network n1. One or more ports have an IP "
                                                        "allocation from this subnet.", "detail": ""}},
          "headers": {"x-openstack-request-id": "req-neutron"}},
         Conflict, lambda c: c.delete_network("n1")),
        ("POST", CINDER + "/volumes",
         {"status_code": 413, "json": {"overLimit": {"code": 413, "message": "VolumeLimitExceeded: Maximum number "
                                                     "of volumes allowed (0) exceeded for quota 'volumes'.",
                                                     "retryAfter": "0"}},
          "headers": {"x-openstack-request-id": "req-cinder"}},
         QuotaExceeded, lambda c: c.create_volume(1)),
        ("DELETE", GLANCE + "/images/i1",
         {"status_code": 403, "text": "<html><body><h1>403 Forbidden</h1>Image i1 is protected</body></html>",
          "headers": {"content-type": "text/html", "x-openstack-request-id": "req-glance"}},
         Forbidden, lambda c: c.delete_image("i1")),
        ("GET", NEUTRON + "/ports/p1",
         {"status_code": 500, "json": {"NeutronError": {"type": "HTTPInternalServerError", "message": "boom"}},
          "headers": {"x-openstack-request-id": "req-neutron"}},
         Unavailable, lambda c: c.get_port("p1")),
    ],
)
def test_http_errors_are_mapped_with_their_request_id(
    member: OpenStackConnector, http: requests_mock.Mocker, method: str, url: str, answer: dict[str, Any],
    error: type[ConnectorError], call: Any,
) -> None:
    http.register_uri(method, url, **answer)

    with pytest.raises(error) as caught:
        call(member)

    raised = caught.value
    assert type(raised) is error
    assert raised.status == answer["status_code"]
    assert raised.request_id and raised.request_id.startswith("req-")
    assert raised.request_id in str(raised) and "fake" in str(raised) and REGION in str(raised)


def test_not_found_message_comes_from_the_body(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(NOVA + "/flavors/f0", status_code=404,
             json={"itemNotFound": {"code": 404, "message": "Flavor f0 could not be found."}})

    with pytest.raises(NotFound, match="Flavor f0 could not be found"):
        member.get_flavor("f0")


def test_delete_ignores_a_missing_object_unless_asked(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.delete(NOVA + "/servers/gone", status_code=404, json={"itemNotFound": {"message": "gone"}})

    member.delete_server("gone")
    with pytest.raises(NotFound):
        member.delete_server("gone", ignore_missing=False)


def test_connection_refused_is_unavailable(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(CINDER + "/volumes/detail", exc=requests.exceptions.ConnectionError("[Errno 111] Connection refused"))

    with pytest.raises(Unavailable) as caught:
        list(member.volumes())
    assert caught.value.status is None and "refused" in str(caught.value)


def test_a_service_down_before_discovery_is_unavailable(member: OpenStackConnector,
                                                        http: requests_mock.Mocker) -> None:
    refused = requests.exceptions.ConnectionError("[Errno 111] Connection refused")
    http.get("http://cinder.test/v3/", exc=refused)
    http.get(f"{CINDER}/", exc=refused)
    http.get("http://cinder.test/", exc=refused)
    http.get(f"{CINDER}/volumes/detail", exc=refused)  # keystoneauth falls back to the catalog URL

    with pytest.raises(Unavailable):
        list(member.volumes())


def test_ids_cannot_escape_their_collection(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    route = http.get(NOVA + "/servers/..%2Fflavors", json={"server": {"id": "x"}})

    member.get_server("../flavors")

    assert route.called
