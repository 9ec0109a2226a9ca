"""A slow fake cloud provider for the scale-mode test, loaded into the Celery workers with ``--include``.

It lists a fixed set of objects a page at a time with a delay per page, so that a sync lasts long enough
for two workers to collide on the same cloud; no OpenStack is needed, only PostgreSQL, Redis and Celery.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from souverain.connectors import NotSupported
from souverain.connectors.registry import register

PROVIDER = "scalefake"
PAGES = 10
PAGE_SIZE = 25
DELAY = 0.2  # seconds per page: ~2 s per kind


@register(PROVIDER)
class SlowFakeConnector:  # the engine uses only supports(), normalise(), iter_pages() and capacity()
    def __init__(self, cloud: str | None = None, *, region: str | None = None, **config: Any) -> None:
        self.cloud, self.region = cloud or "scalefake", region

    def supports(self, kind: str) -> bool:
        return kind in ("servers", "networks")

    def capacity(self) -> dict[str, Any]:
        # The capacity sync queued after each inventory sync records "unsupported", as for a real provider that
        # reports no capacity (an AttributeError here failed every such post-sync job).
        raise NotSupported("the scale test's fake provider reports no capacity", cloud=self.cloud,
                           region=self.region)

    @classmethod
    def normalise(cls, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        # The one-registry connector protocol (connectors/kinds.py): what the sync reads of an object.
        return {"id": item["id"], "name": item["name"], "status": item["status"], "project": item["project_id"]}

    def iter_pages(self, kind: str, *, changes_since: datetime | None = None,
                   page_size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        for page in range(PAGES):
            time.sleep(DELAY)
            yield [{"id": f"{kind}-{page}-{i}", "name": f"{kind[:-1]}-{page}-{i}", "status": "ACTIVE",
                    "project_id": "scale-project"} for i in range(PAGE_SIZE)]
