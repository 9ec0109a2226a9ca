"""Raw, paged listings of one kind: the inventory's hot path.

openstacksdk's generic ``Resource.list`` builds an object per item and, whenever a ``limit`` is set and
the answer carries no next link, asks once more "to be sure" - one extra request per listing, most
often for an empty page. Here a page is requested only when the previous one was full, which the
services signal with their next link (Nova, Cinder and Neutron add it only when a page holds as many
items as the effective limit; Glance likewise), and items stay the API's own dicts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..base import Page, Resource
from .kinds import Kind
from .transport import Transport

log = logging.getLogger(__name__)

#: Asked for when the caller has no preference; every service caps it to its own maximum (Nova's and
#: Cinder's default is 1000, Glance's api_limit_max 1000), so this means "as large as the cloud allows".
DEFAULT_PAGE_SIZE = 1000


def iter_pages(
    transport: Transport,
    kind: Kind,
    path: str,
    params: Mapping[str, str],
    page_size: int | None,
    keep: Callable[[Resource], bool] | None = None,
) -> Iterator[Page]:
    """The listing's pages; with ``keep``, only the items it accepts (pages left empty are skipped)."""
    limit = page_size or DEFAULT_PAGE_SIZE
    query = dict(params)
    if kind.paged:
        query["limit"] = str(limit)
    while True:
        body = transport.get_json(kind.service, path, query)
        items: Page = body if kind.plural is None else body.get(kind.plural) or []
        kept = items if keep is None else [item for item in items if keep(item)]
        if kept:
            yield kept
        if not kind.paged:
            if isinstance(body, dict) and body.get("truncated"):
                log.warning("%s/%s: the %s listing was truncated by the service's list_limit",
                            transport.cloud, transport.region, kind.name)
            return
        marker = _next_marker(kind, body, items, limit)
        if marker is None or marker == query.get("marker"):
            return
        query["marker"] = marker


def _next_marker(kind: Kind, body: Any, items: Page, limit: int) -> str | None:
    if not items:
        return None
    if kind.plural is None:
        # Swift sends no link: only a full page says there may be more.
        return str(items[-1][kind.id_key]) if len(items) >= limit else None
    link = _next_link(kind, body)
    if link is None:
        return None
    # Keep our own path and query and take only the marker: the link's host is the one the service
    # believes it has (wrong behind some proxies) and re-sending its whole query grows the URL.
    marker = parse_qs(urlsplit(link).query).get("marker")
    return marker[0] if marker else str(items[-1][kind.id_key])


def _next_link(kind: Kind, body: dict[str, Any]) -> str | None:
    for link in body.get(kind.links_key) or ():
        if link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    glance_next = body.get("next")
    return str(glance_next) if glance_next else None
