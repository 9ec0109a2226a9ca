"""Talking to clouds, one provider per subpackage, behind one interface (``base.Connector``).

No Django here: the connectors are used by Celery tasks, the CLI and the test-bed alike.

    from souverain.connectors import get_connector
    conn = get_connector("openstack", cloud="sovereign", region="fr-paris-1")
    for page in conn.iter_pages("servers"):
        ...
"""

from .base import RESOURCE_KINDS, Connector, Page, Resource
from .errors import (
    Conflict,
    ConnectorError,
    Forbidden,
    NotFound,
    NotSupported,
    QuotaExceeded,
    Timeout,
    Unauthorized,
    Unavailable,
)
from .registry import available_providers, get_connector, register

__all__ = [
    "RESOURCE_KINDS",
    "Conflict",
    "Connector",
    "ConnectorError",
    "Forbidden",
    "NotFound",
    "NotSupported",
    "Page",
    "QuotaExceeded",
    "Resource",
    "Timeout",
    "Unauthorized",
    "Unavailable",
    "available_providers",
    "get_connector",
    "register",
]
