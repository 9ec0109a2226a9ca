"""A fake OpenStack cloud at the HTTP layer, for unit tests: Keystone, a catalog and version documents.

Tests register the service answers they need on ``FakeCloud.mock`` (a requests_mock Mocker) with the
URLs below; nothing of openstacksdk is mocked, so the real session, discovery and re-authentication
code runs.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import requests_mock

AUTH_URL = "http://keystone.test/v3"
PROJECT_ID = "p" + "0" * 31
REGION = "fr-paris-1"
NOVA = "http://nova.test/v2.1"
CINDER = f"http://cinder.test/v3/{PROJECT_ID}"
NEUTRON = "http://neutron.test/v2.0"
GLANCE = "http://glance.test/v2"
SWIFT = f"http://swift.test/v1/AUTH_{PROJECT_ID}"
KEYSTONE_PROJECTS = AUTH_URL + "/projects"

CONFIG: dict[str, Any] = {
    "auth_type": "password",
    "auth": {
        "auth_url": AUTH_URL,
        "username": "demo",
        "password": "s3cret-Passw0rd",
        "project_name": "demo",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    },
    "region_name": REGION,
    "identity_api_version": "3",
}


def _version(id: str, href: str, version: str = "", min_version: str = "") -> dict[str, Any]:
    return {"id": id, "status": "CURRENT", "version": version, "min_version": min_version,
            "links": [{"rel": "self", "href": href}]}


class FakeCloud:
    """Keystone with a catalog, and each service's version document; ``object_store`` adds Swift."""

    def __init__(self, mock: requests_mock.Mocker, *, roles: tuple[str, ...] = ("member",),
                 object_store: bool = False) -> None:
        self.mock = mock
        self.roles = roles
        self.object_store = object_store
        self.tokens: list[str] = []
        mock.get(re.compile(r"^http://keystone\.test/v3/?$"),
                 json={"version": _version("v3.14", AUTH_URL + "/")})
        mock.post(AUTH_URL + "/auth/tokens", [self._token_response()])
        compute = _version("v2.1", NOVA + "/", "2.96", "2.1")
        mock.get(re.compile(r"^http://nova\.test(/v2\.1)?/?$"), json={"version": compute, "versions": [compute]})
        volume = _version("v3.0", "http://cinder.test/v3/", "3.71", "3.0")
        mock.get(re.compile(r"^http://cinder\.test(/v3)?/?$"), json={"versions": [volume]})
        mock.get(re.compile(r"^http://cinder\.test/v3/p0+/?$"), json={"versions": [volume]})
        network = _version("v2.0", NEUTRON + "/")
        mock.get(re.compile(r"^http://neutron\.test(/v2\.0)?/?$"), json={"versions": [network]})
        image = _version("v2.15", GLANCE + "/")
        mock.get(re.compile(r"^http://glance\.test(/v2)?/?$"), json={"versions": [image]})

    def token(self, *, expires_in: int = 3600) -> dict[str, Any]:
        """A Keystone v3 token body with our roles and catalog (keystoneauth's own fixture needs `fixtures`)."""
        now = dt.datetime.now(dt.UTC)
        domain = {"id": "default", "name": "Default"}
        catalog = [("identity", AUTH_URL), ("compute", NOVA), ("block-storage", CINDER),
                   ("network", "http://neutron.test"), ("image", "http://glance.test")]
        if self.object_store:
            catalog.append(("object-store", SWIFT))
        return {"token": {
            "methods": ["password"],
            "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "expires_at": (now + dt.timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
            "audit_ids": [uuid.uuid4().hex[:22]],
            "user": {"id": "u1", "name": "demo", "domain": domain},
            "project": {"id": PROJECT_ID, "name": "demo", "domain": domain},
            "roles": [{"id": f"r-{role}", "name": role} for role in self.roles],
            "catalog": [
                {"type": service_type, "id": f"s-{service_type}", "name": service_type, "endpoints": [
                    {"id": f"e-{service_type}-{interface}", "interface": interface, "region": REGION,
                     "region_id": REGION, "url": url}
                    for interface in ("public", "internal")]}
                for service_type, url in catalog
            ],
        }}

    def _token_response(self, expires_in: int = 3600) -> dict[str, Any]:
        token_id = uuid.uuid4().hex
        self.tokens.append(token_id)
        return {"json": self.token(expires_in=expires_in), "status_code": 201,
                "headers": {"X-Subject-Token": token_id}}

    def issue_tokens(self, count: int, *, expires_in: int = 3600) -> list[str]:
        """Make Keystone answer the next ``count`` authentications with fresh tokens; returns their ids."""
        first = len(self.tokens)
        self.mock.post(AUTH_URL + "/auth/tokens", [self._token_response(expires_in) for _ in range(count)])
        return self.tokens[first:]

    def auth_requests(self) -> int:
        return sum(1 for r in self.mock.request_history if r.method == "POST" and r.url.endswith("/auth/tokens"))

    def service_requests(self, host: str) -> list[Any]:
        """Requests sent to ``host`` (e.g. "nova.test") other than version discovery."""
        return [r for r in self.mock.request_history
                if r.hostname == host and r.path.rstrip("/") not in ("", "/v2.1", "/v3", "/v2.0", "/v2",
                                                                     f"/v3/{PROJECT_ID}")]
