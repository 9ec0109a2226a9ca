"""HTTP calls to one OpenStack cloud: the connection's keystoneauth session, made safe to call.

Each call goes through the service's openstacksdk proxy (a keystoneauth Adapter: endpoint from the
catalog, version discovery, token handling, re-authentication on 401), asks for the microversion this
layer was written against (capped by the cloud's), turns failures into connector errors and retries
what is transient under the connector's ``RetryPolicy``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from keystoneauth1 import discover
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.access import AccessInfo
from keystoneauth1.identity import BaseIdentityPlugin
from openstack import connection as sdk_connection
from openstack import exceptions as sdk_exc

from ..errors import ConnectorError
from ..retry import RetryPolicy
from . import errors as os_errors
from .kinds import MICROVERSIONS, Microversion


class Transport:
    def __init__(
        self, conn: sdk_connection.Connection, *, cloud: str, region: str | None, retry: RetryPolicy,
        max_microversions: Mapping[str, str] | None = None,
    ) -> None:
        self.conn = conn
        # service type -> the highest microversion this cloud is to be asked for, whatever it advertises: a
        # vendor distribution (FusionSphere-type) may advertise more than it implements faithfully.
        self.max_microversions = dict(max_microversions or {})
        self.cloud = cloud
        self.region = region
        self.retry = retry
        # service type -> negotiated microversion; kept only once the service's discovery document was
        # read, so a service that was down at first use is negotiated again once it answers.
        self._microversions: dict[str, tuple[Microversion, str | None]] = {}

    def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One call, retried if transient and allowed; raises a ``ConnectorError`` for status >= 400."""

        def attempt() -> requests.Response:
            with self.mapped_errors():
                proxy = self._proxy(service)
                _, microversion = self._negotiated(service, proxy)
                response: requests.Response = proxy.request(
                    path,
                    method,
                    params=dict(params or {}),
                    json=json,
                    data=data,
                    headers=dict(headers or {}),
                    microversion=microversion,
                    raise_exc=False,
                    # Our RetryPolicy decides; keystoneauth's retries would multiply with it.
                    connect_retries=0,
                    status_code_retries=0,
                )
            if response.status_code >= 400:
                raise os_errors.from_response(response, cloud=self.cloud, region=self.region)
            return response

        return self.retry.call(method, attempt, what=f"{service} {path or '/'}")

    def get_json(self, service: str, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self.request(service, "GET", path, params=params).json()

    def microversion(self, service: str) -> Microversion:
        """The microversion in use for ``service`` as (major, minor), None when it has none."""

        def attempt() -> Microversion:
            with self.mapped_errors():
                return self._negotiated(service, self._proxy(service))[0]

        return self.retry.call("GET", attempt, what=f"{service} discovery")

    def access(self) -> AccessInfo:
        """The token and catalog of the session, authenticating first if needed."""

        auth = self.conn.session.auth
        if not isinstance(auth, BaseIdentityPlugin):
            raise ConnectorError("the connection has no Keystone authentication", cloud=self.cloud, region=self.region)

        def attempt() -> AccessInfo:
            with self.mapped_errors():
                return auth.get_access(self.conn.session)

        return self.retry.call("GET", attempt, what="identity token")

    def has_service(self, service: str) -> bool:
        """Whether the catalog lists ``service`` (or one of its aliases) in our region and interface."""
        catalog = self.access().service_catalog
        endpoints = catalog.get_endpoints(
            service_type=service, interface=self.conn.config.get_interface(), region_name=self.region
        )
        return any(endpoints.values())

    @contextlib.contextmanager
    def mapped_errors(self) -> Iterator[None]:
        try:
            yield
        except (ks_exc.ClientException, sdk_exc.SDKException) as exc:
            raise os_errors.from_exception(exc, cloud=self.cloud, region=self.region) from exc

    def _proxy(self, service: str) -> Any:
        # The SDK builds a proxy on first access (version discovery included) and caches it on success.
        return getattr(self.conn, service.replace("-", "_"))

    def _negotiated(self, service: str, proxy: Any) -> tuple[Microversion, str | None]:
        known = self._microversions.get(service)
        if known is None:
            known = _negotiate(_capped(MICROVERSIONS.get(service), self.max_microversions.get(service)), proxy)
            if known is None:
                return None, None  # no discovery document this time: ask again next call
            self._microversions[service] = known
        return known


def _capped(wanted: str | None, cap: str | None) -> str | None:
    if wanted is None or cap is None:
        return wanted
    lower = min(discover.normalize_version_number(wanted), discover.normalize_version_number(str(cap)))
    return str(discover.version_to_string(lower))


def _negotiate(wanted: str | None, proxy: Any) -> tuple[Microversion, str | None] | None:
    """The highest microversion both we and the cloud speak, as a tuple and as the header's string.

    (None, None) when there is none to ask for; None when the cloud's discovery document is unavailable.
    """
    if wanted is None:
        return None, None
    data = proxy.get_endpoint_data()  # the discovery document, already fetched to build the proxy
    if data is None:
        return None
    if not data.max_microversion:
        return None, None
    best = min(discover.normalize_version_number(wanted), data.max_microversion)
    if data.min_microversion and best < data.min_microversion:
        return None, None
    return (int(best[0]), int(best[1])), discover.version_to_string(best)
