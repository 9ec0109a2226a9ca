"""A hypothetical third provider, "acme", as small as a provider can be: what docs/development/adding-a-provider.md
describes, and the proof that adding one needs only its package and its tests.

It lists two kinds: the registry's ``server`` and one of its own, ``dns_zone``, which it registers. Its "API" is an
in-memory dict per endpoint (``DATA``), so the test needs no server. It implements only the listing: every other
verb answers "not supported by this provider".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from souverain.connectors import Connector, Page, Resource, register
from souverain.connectors.kinds import Kind, Normalised, register_kind

#: endpoint -> listing -> the provider's own documents (its API's JSON: camelCase, its own key names).
DATA: dict[str, dict[str, list[dict[str, Any]]]] = {}

DNS_ZONE = register_kind(Kind("dns_zone", "dns_zones", "DNS zone", "Zone DNS", start=95))


@register("acme")
class AcmeConnector(Connector):
    display_name = "Acme Cloud"
    kinds = ("servers", "dns_zones")
    incremental_kinds = frozenset({"servers"})

    def __init__(self, cloud: str | None = None, *, region: str | None = None,
                 config: Mapping[str, Any] | None = None, name: str | None = None) -> None:
        self._config = dict(config or {})
        self._cloud, self._region = name or cloud or "acme", region

    @property
    def cloud(self) -> str:
        return self._cloud

    @property
    def region(self) -> str | None:
        return self._region

    def iter_pages(self, kind: str, *, changes_since: datetime | None = None,
                   page_size: int | None = None) -> Iterator[Page]:
        items = DATA.get(self._config.get("endpoint", ""), {}).get(kind, [])
        if changes_since is not None:
            items = [i for i in items if datetime.fromisoformat(i["modified"]) >= changes_since]
        size = page_size or 2
        for start in range(0, len(items), size):
            yield [dict(i) for i in items[start:start + size]]

    @classmethod
    def normalise(cls, kind: str, item: Resource) -> Normalised:
        if kind == "servers":
            return {"id": item["uid"], "name": item["label"], "status": item["state"].lower(),
                    "project": item["account"], "tags": [f"{k}={v}" for k, v in sorted(item["labels"].items())],
                    "labels": item["labels"], "vcpus": item["cpu"], "ram": item["memoryMb"],
                    "zone": item["site"], "updated": item["modified"]}
        return {"id": item["zoneId"], "name": item["fqdn"], "project": item["account"], "status": "active"}
