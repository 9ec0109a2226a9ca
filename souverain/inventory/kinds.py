"""The inventory's view of the one kind registry (``connectors.kinds``), and what it does with each object.

There is no list of kinds here: ``KINDS`` and ``DATA_KINDS`` are live views of the connectors' registry, so a kind
a provider registers is synced, filtered, labelled and (if it holds data) evaluated with no change here, and the
``kind`` columns carry no database choices (no migration per kind).

Items come from a connector in the provider's own JSON; the inventory keeps that document whole in
``Resource.attrs`` and reads nothing of it itself: the connector's ``normalise`` gives the normalised form
(id, name, status, project, tags, labels, sizes...), whose indexed parts become columns and the rest
``Resource.normalised``. Whether a listing can be incremental is the connector's to say
(``Connector.incremental_kinds``); a kind listed whole each time is a complete listing, so deletions are
reconciled as in a full sync.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

from souverain.connectors.kinds import Kind, all_kinds, find_kind, get_kind

#: What the portal and other apps call a kind's registry entry.
KindInfo = Kind


class _Live(Sequence[Any]):
    """A tuple-like view of the registry, read afresh at each use (kinds may be registered after import)."""

    def __init__(self, pick: Any) -> None:
        self._pick = pick

    def _items(self) -> tuple[Any, ...]:
        return tuple(self._pick(all_kinds()))

    @overload
    def __getitem__(self, index: int) -> Any: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...
    def __getitem__(self, index: int | slice) -> Any:
        return self._items()[index]

    def __len__(self) -> int:
        return len(self._items())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items())

    def __contains__(self, value: object) -> bool:
        return value in self._items()

    def __repr__(self) -> str:
        return repr(self._items())


#: Every registered kind, in start order (the order in which a region's kinds start: longest listings first).
KINDS: Sequence[Kind] = _Live(lambda kinds: kinds)
#: The names of the kinds compliance evaluates: those that hold or carry data.
DATA_KINDS: Sequence[str] = _Live(lambda kinds: (k.name for k in kinds if k.holds_data))


class _LiveMap(Mapping[str, Kind]):
    """A mapping view of the registry by one of a kind's names, read afresh at each use."""

    def __init__(self, key: str) -> None:
        self._key = key

    def _items(self) -> dict[str, Kind]:
        return {getattr(k, self._key): k for k in all_kinds()}

    def __getitem__(self, key: str) -> Kind:
        return self._items()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())


#: The kinds by inventory name (``"server"``) and by listing (``"servers"``).
BY_NAME: Mapping[str, Kind] = _LiveMap("name")
BY_LISTING: Mapping[str, Kind] = _LiveMap("listing")


def kind(name_or_listing: str) -> Kind:
    """The registry's kind named ``server`` or listed as ``servers``; ValueError naming the known ones."""
    return get_kind(name_or_listing)


def label(name: str, language: str | None = None) -> str:
    """A kind's display name in ``language`` (the current one by default); the name itself if unknown."""
    info = find_kind(name)
    if info is None:
        return name
    if language is None:
        from django.utils import translation

        language = translation.get_language()
    return info.display_name(language)


def name_of(info: Kind, item: dict[str, Any]) -> str:
    """The name of an object in OpenStack's JSON (kept for callers holding one; the sync uses the normalised form
    of the cloud's own connector)."""
    from souverain.connectors.openstack.normalise import name_of as openstack_name

    return openstack_name(info.listing, item)


def status_of(info: Kind, item: dict[str, Any]) -> str:
    """The status of an object in OpenStack's JSON (see ``name_of``)."""
    from souverain.connectors.openstack.normalise import status_of as openstack_status

    return openstack_status(info.listing, item)


def tags_of(item: dict[str, Any]) -> list[str]:
    """The tags of an object in OpenStack's JSON (see ``name_of``)."""
    from souverain.connectors.openstack.normalise import tags_of as openstack_tags

    return openstack_tags(item)


def canonical(value: Any) -> Any:
    """``value``, in place, with every list of objects that each carry an ``id`` in a fixed order. Such a list
    is a set (a security group's rules, a server's attached volumes) that the APIs return in no particular
    order (Neutron's embedded rules come shuffled from one listing to the next), and an order that changes is
    not a change. Other lists keep theirs: for a subnet's DNS servers or routes, order means something."""
    if isinstance(value, dict):
        for item in value.values():
            if isinstance(item, dict | list):
                canonical(item)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                canonical(item)
        if len(value) > 1 and all(isinstance(item, dict) and "id" in item for item in value):
            value.sort(key=lambda item: (str(item["id"]), json.dumps(item, sort_keys=True, default=str)))
    return value
