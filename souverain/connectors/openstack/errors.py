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
    error = _class_for(response.status_code, _body_hint(response) + message)(
        message, cloud=cloud, region=region, request_id=request_id(response), status=response.status_code
    )
    if isinstance(error, errors.Unavailable):
        error.retry_after = _retry_after(response)
    return error


def _class_for(status: int, text: str) -> type[errors.ConnectorError]:
    if status == 413 or (status in (403, 409) and _QUOTA.search(text)):
        return errors.QuotaExceeded
    if status == 429 or status >= 500:
        return errors.Unavailable
    by_status: dict[int, type[errors.ConnectorError]] = {
        401: errors.Unauthorized,
        403: errors.Forbidden,
        404: errors.NotFound,
        408: errors.Timeout,
        409: errors.Conflict,
    }
    return by_status.get(status, errors.ConnectorError)


def from_exception(exc: Exception, *, cloud: str | None, region: str | None) -> errors.ConnectorError:
    """The connector error for an exception raised by keystoneauth or openstacksdk."""
    if isinstance(exc, ks_exc.HttpError | sdk_exc.HttpException) and exc.response is not None:
        # Raised while authenticating, e.g. Keystone refusing a password.
        return from_response(exc.response, cloud=cloud, region=region)
    if isinstance(exc, ks_exc.HttpError):
        status = exc.http_status
        cls = errors.Unauthorized if status == 401 else errors.ConnectorError
        return cls(str(exc), cloud=cloud, region=region, status=status, request_id=exc.request_id)
    return _class_of_failure(exc)(_describe(exc), cloud=cloud, region=region)


def _class_of_failure(exc: Exception) -> type[errors.ConnectorError]:
    if isinstance(exc, ks_exc.ConnectTimeout):
        # requests' read timeouts arrive here too: keystoneauth maps every Timeout to ConnectTimeout.
        return errors.Timeout
    if isinstance(exc, ks_exc.SSLError):
        # Not transient: a certificate problem does not heal by retrying.
        return errors.ConnectorError
    if isinstance(exc, ks_exc.ConnectionError | ks_exc.DiscoveryFailure):
        # Discovery fails when the service is down before its version document was ever read.
        return errors.Unavailable
    if isinstance(exc, ks_exc.EndpointNotFound | sdk_exc.ServiceDisabledException):
        return errors.NotSupported
    if isinstance(exc, ks_exc.MissingRequiredOptions | ks_exc.AuthPluginException | sdk_exc.ConfigException):
        return errors.Unauthorized
    return errors.ConnectorError


def _describe(exc: Exception) -> str:
    if isinstance(exc, ks_exc.MissingRequiredOptions | ks_exc.AuthPluginException | sdk_exc.ConfigException):
        return f"unusable credentials: {exc}"
    return str(exc) or type(exc).__name__


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
