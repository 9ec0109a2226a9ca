"""Authentication: expired tokens are replaced, refused credentials are Unauthorized, secrets never leak."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import requests_mock

from souverain.connectors import Unauthorized
from souverain.connectors.openstack import OpenStackConnector

from .conftest import Sleeps
from .fakecloud import AUTH_URL, CONFIG, NOVA, FakeCloud

EXPIRED = {"status_code": 401, "json": {"error": {"code": 401, "message": "The request you have made requires "
                                                  "authentication.", "title": "Unauthorized"}},
           "headers": {"x-openstack-request-id": "req-401"}}


def test_a_401_makes_keystoneauth_authenticate_again_once(make_connector, http: requests_mock.Mocker,
                                                          sleeps: Sleeps) -> None:
    connector, cloud = make_connector()
    connector.lists_all_projects()  # authenticates
    first, second = cloud.tokens[0], cloud.issue_tokens(1)[0]
    route = http.get(NOVA + "/servers/detail", [EXPIRED, {"json": {"servers": [{"id": "s1"}]}}])

    assert list(connector.servers()) == [{"id": "s1"}]

    assert cloud.auth_requests() == 2
    assert [r.headers["X-Auth-Token"] for r in route.request_history] == [first, second]
    assert sleeps == []  # re-authentication is not a retry of ours


def test_credentials_refused_twice_are_unauthorized(make_connector, http: requests_mock.Mocker) -> None:
    connector, cloud = make_connector()
    connector.lists_all_projects()
    cloud.issue_tokens(1)
    http.get(NOVA + "/servers/detail", [EXPIRED, EXPIRED])

    with pytest.raises(Unauthorized) as caught:
        list(connector.servers())
    assert caught.value.status == 401 and caught.value.request_id == "req-401"


def test_a_token_about_to_expire_is_renewed_before_use(make_connector, http: requests_mock.Mocker) -> None:
    connector, cloud = make_connector()
    http.get(NOVA + "/servers/detail", json={"servers": []})
    http.post(AUTH_URL + "/auth/tokens", [cloud._token_response(expires_in=30)])  # keystoneauth renews < 120 s
    list(connector.servers())
    before = cloud.auth_requests()
    renewed = cloud.issue_tokens(1)[0]

    list(connector.servers())

    assert cloud.auth_requests() == before + 1
    assert http.request_history[-1].headers["X-Auth-Token"] == renewed


def test_a_wrong_password_is_unauthorized_with_keystones_request_id(http: requests_mock.Mocker) -> None:
    FakeCloud(http)
    http.post(AUTH_URL + "/auth/tokens", status_code=401, headers={"x-openstack-request-id": "req-keystone"},
              json={"error": {"code": 401, "message": "The request you have made requires authentication.",
                              "title": "Unauthorized"}})
    connector = OpenStackConnector(config=CONFIG, name="fake")

    with pytest.raises(Unauthorized) as caught:
        list(connector.servers())
    assert caught.value.request_id == "req-keystone"
    assert caught.value.cloud == "fake"


def test_credentials_never_reach_logs_errors_or_repr(make_connector, http: requests_mock.Mocker,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    connector, cloud = make_connector()
    connector.lists_all_projects()
    cloud.issue_tokens(1)
    http.get(NOVA + "/servers/detail", [EXPIRED, {"status_code": 503, "json": {}}, {"json": {"servers": []}}])

    list(connector.servers())
    with pytest.raises(Unauthorized) as caught:
        http.get(NOVA + "/servers/x", [EXPIRED, EXPIRED])
        cloud.issue_tokens(1)
        connector.get_server("x")

    password = CONFIG["auth"]["password"]
    seen = caplog.text + repr(connector) + str(caught.value) + repr(caught.value)
    assert password not in seen
    assert not any(token in seen for token in cloud.tokens)  # keystoneauth logs only hashes of tokens
    assert "fake" in repr(connector)


def test_clouds_yaml_and_secure_yaml_are_found_as_openstacksdk_finds_them(
    http: requests_mock.Mocker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = {key: value for key, value in CONFIG["auth"].items() if key != "password"}
    (tmp_path / "clouds.yaml").write_text(json.dumps({"clouds": {"acme": {**CONFIG, "auth": public}}}))
    (tmp_path / "secure.yaml").write_text(json.dumps({"clouds": {"acme": {"auth": {"password": "from-secure"}}}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "clouds.yaml"))
    monkeypatch.setenv("OS_CLIENT_SECURE_FILE", str(tmp_path / "secure.yaml"))
    FakeCloud(http)
    http.get(NOVA + "/servers/detail", json={"servers": []})

    connector = OpenStackConnector(cloud="acme")
    list(connector.servers())

    assert connector.cloud == "acme"
    login = next(r for r in http.request_history if r.method == "POST")
    assert login.json()["auth"]["identity"]["password"]["user"]["password"] == "from-secure"
