"""Turn OpenStack HTTP answers and keystoneauth/openstacksdk exceptions into connector errors.

Quota refusals do not share a status across services, so they are recognised by their message first:
Nova answers 403 "Quota exceeded for instances...", Neutron 409 with type OverQuota, Cinder 413
overLimit "...exceeded for quota...", Glance 413.
"""

from __future__ import annotations

import re

import requests
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as sdk_exc

from .. import errors

_QUOTA = re.compile(r"overquota|overlimit|quota.{0,40}exceed|exceed.{0,40}quota", re.IGNORECASE)


def request_id(response: requests.Response | None) -> str | None:
    if response is None:
        return None
    # Nova sends x-compute-request-id (and, since Pike, both); the others x-openstack-request-id.
    return response.headers.get("x-openstack-request-id") or response.headers.get("x-compute-request-id")


def from_response(response: requests.Response, *, cloud: str | None, region: str | None) -> errors.ConnectorError:
    """The connector error for a response of status 400 or more."""
    message = _message(response)
    status = response.status_code
    where = {"cloud": cloud, "region": region, "request_id": request_id(response), "status": status}
    if status == 413 or (status in (403, 409) and _QUOTA.search(_body_hint(response) + message)):
        return errors.QuotaExceeded(message, **where)
    if status == 401:
        return errors.Unauthorized(message, **where)
    if status == 403:
        return errors.Forbidden(message, **where)
    if status == 404:
        return errors.NotFound(message, **where)
    if status == 409:
        return errors.Conflict(message, **where)
    if status == 408:
        return errors.Timeout(message, **where)
    if status == 429 or status >= 500:
        return errors.Unavailable(message, retry_after=_retry_after(response), **where)
    return errors.ConnectorError(message, **where)


def from_exception(exc: Exception, *, cloud: str | None, region: str | None) -> errors.ConnectorError:
    """The connector error for an exception raised by keystoneauth or openstacksdk."""
    where = {"cloud": cloud, "region": region}
    if isinstance(exc, ks_exc.HttpError) and exc.response is not None:
        # Raised while authenticating, e.g. Keystone refusing a password.
        return from_response(exc.response, **where)
    if isinstance(exc, ks_exc.HttpError):
        status = exc.http_status
        if status == 401:
            return errors.Unauthorized(str(exc), status=status, request_id=exc.request_id, **where)
        return errors.ConnectorError(str(exc), status=status, request_id=exc.request_id, **where)
    if isinstance(exc, ks_exc.ConnectTimeout):
        # requests' read timeouts arrive here too: keystoneauth maps every Timeout to ConnectTimeout.
        return errors.Timeout(str(exc), **where)
    if isinstance(exc, ks_exc.SSLError):
        # Not transient: a certificate problem does not heal by retrying.
        return errors.ConnectorError(str(exc), **where)
    if isinstance(exc, ks_exc.ConnectionError | ks_exc.DiscoveryFailure):
        # Discovery fails when the service is down before its version document was ever read.
        return errors.Unavailable(str(exc), **where)
    if isinstance(exc, ks_exc.EndpointNotFound | sdk_exc.ServiceDisabledException):
        return errors.NotSupported(str(exc), **where)
    if isinstance(exc, ks_exc.MissingRequiredOptions | ks_exc.AuthPluginException | sdk_exc.ConfigException):
        return errors.Unauthorized(f"unusable credentials: {exc}", **where)
    if isinstance(exc, sdk_exc.HttpException) and exc.response is not None:
        return from_response(exc.response, **where)
    return errors.ConnectorError(f"{type(exc).__name__}: {exc}", **where)


def _message(response: requests.Response) -> str:
    # openstacksdk already knows every service's error body layout (JSON, WSME, HTML): reuse it.
    try:
        sdk_exc.raise_from_response(response)
    except sdk_exc.HttpException as exc:
        return str(exc.details or response.reason or response.status_code)
    return str(response.reason)


def _body_hint(response: requests.Response) -> str:
    # Neutron names the error type (OverQuota) outside its message, Cinder in the body's key (overLimit).
    return response.text[:300] if response.content else ""


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None
