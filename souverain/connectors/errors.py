"""The errors every connector raises, whatever the provider.

Callers (inventory sync, provisioning tasks, the portal) branch on these classes only, never on
openstacksdk's or keystoneauth's exceptions, so that a second provider needs no change in them.
Each error carries the cloud and region it came from and the request id the cloud logged, which is
what an operator needs to find the failing call in the provider's own logs.
"""

from __future__ import annotations

from typing import Any


class ConnectorError(Exception):
    """Base class: a call to a cloud failed.

    ``status`` is the HTTP status when there was an answer (``None`` for connection failures),
    ``request_id`` the provider's request id when it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        cloud: str | None = None,
        region: str | None = None,
        request_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.cloud = cloud
        self.region = region
        self.request_id = request_id
        self.status = status

    def __str__(self) -> str:
        where = f"{self.cloud or '?'}/{self.region or '?'}"
        status = f" HTTP {self.status}" if self.status is not None else ""
        request = f" request {self.request_id}" if self.request_id else ""
        return f"[{where}{status}{request}] {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class NotFound(ConnectorError):
    """The object does not exist (or is not visible to these credentials)."""


class Conflict(ConnectorError):
    """The request conflicts with the object's current state (in use, duplicate, wrong status)."""


class QuotaExceeded(ConnectorError):
    """The project's quota does not allow the request."""


class Unauthorized(ConnectorError):
    """The credentials were refused (wrong password, expired or revoked credentials)."""


class Forbidden(Unauthorized):
    """Authenticated, but the cloud's policy does not allow this call (HTTP 403 without a quota message).

    A subclass of Unauthorized so that "these credentials cannot do it" is one ``except`` clause.
    """


class Unavailable(ConnectorError):
    """The service did not answer usefully: 5xx, 429, connection refused or dropped.

    ``retry_after`` is the delay the service asked for (``Retry-After``), when it asked.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **where: Any) -> None:
        super().__init__(message, **where)
        self.retry_after = retry_after


class Timeout(ConnectorError):
    """The service did not answer in time, or an object did not reach the awaited status in time."""


class NotSupported(ConnectorError):
    """This cloud does not offer the resource kind (e.g. no object storage in its catalog)."""


__all__ = [
    "Conflict",
    "ConnectorError",
    "Forbidden",
    "NotFound",
    "NotSupported",
    "QuotaExceeded",
    "Timeout",
    "Unauthorized",
    "Unavailable",
]
