"""Listing what changed since a time: the service's own filter when it takes one, else a filter here.

A service-side filter saves the transfer; when there is none (Cinder snapshots), or when the cloud
refuses it (Neutron rejects ``changed_since`` whenever its filter-validation extension is on, as in
Neutron 29: the parameter is in no attribute map, see neutron/api/api_common.py), the full listing is
read and items whose ``updated_at`` is older are dropped here. Either way the caller gets what changed.
A refusal is remembered per connector and kind, so it costs one extra request once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from ..base import Page, Resource
from ..errors import ConnectorError
from . import paging
from .kinds import Kind
from .transport import Transport

log = logging.getLogger(__name__)


def since_param(when: datetime) -> str:
    """``when`` as the services parse it: UTC, floored to the second (a naive datetime is taken as UTC)."""
    return _utc(when).strftime("%Y-%m-%dT%H:%M:%SZ")


def changed_pages(
    transport: Transport,
    kind: Kind,
    path: str,
    params: Mapping[str, str],
    since: datetime,
    page_size: int | None,
    refused: set[str],
) -> Iterator[Page]:
    """Pages of the objects of ``kind`` changed since ``since``; ``refused`` remembers refusing clouds."""
    stamp = since_param(since)
    wanted = kind.since(stamp, transport.microversion(kind.service)) if kind.since else None
    if wanted and kind.name not in refused:
        pages = paging.iter_pages(transport, kind, path, {**params, **wanted}, page_size)
        try:
            first = next(pages, None)  # the first answer tells whether the filter is accepted
        except ConnectorError as exc:
            if exc.status != 400 or not any(name in exc.message for name in wanted):
                raise
            log.info("%s/%s refuses %s for %s; filtering its listing instead", transport.cloud, transport.region,
                     ", ".join(wanted), kind.name)
            refused.add(kind.name)
        else:
            if first is not None:
                yield first
            yield from pages
            return
    yield from paging.iter_pages(transport, kind, path, params, page_size, keep=_updated_since(kind, stamp))


def _updated_since(kind: Kind, stamp: str) -> Callable[[Resource], bool] | None:
    if kind.updated_key is None:
        return None  # nothing to compare: the full listing it is
    floor = datetime.fromisoformat(stamp)
    key = kind.updated_key

    def keep(item: Resource) -> bool:
        try:
            return _utc(datetime.fromisoformat(str(item[key]))) >= floor
        except (KeyError, ValueError):
            return True  # unknown is kept: a listing since a time may hold more, never less

    return keep


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
