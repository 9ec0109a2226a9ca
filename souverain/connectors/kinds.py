"""The one registry of resource kinds: what the inventory can hold, whatever the provider.

A kind is provider-neutral: its name (``"server"``), the name of its listing in the connectors (``"servers"``),
its display names in English and French, and a few facts the inventory and compliance need (whether it holds
customer data, whether it is read per project). Everything else is the providers' business: each connector says
which kinds it lists (``Connector.kinds``) and turns each of its documents into the **normalised form**
(``Connector.normalise``), the only thing the inventory reads besides the document itself, which it stores whole.

The normalised form (``NORMALISED``) is a dict with these keys, each optional but ``id``:

- ``id`` (the provider's own id, a string), ``name``, ``status`` (lower case), ``project`` (the owning cloud
  project or account, a string, "" when none), ``region``, ``zone``;
- ``size`` (bytes for images and object containers, GiB for volumes and snapshots, as the providers count them),
  ``addresses`` (``{network or subnet: [{"addr", "version"}]}``), ``flavor`` (a name or id), ``vcpus``, ``ram``
  (MiB);
- ``tags`` (a list of strings, ``key=value`` for key-value labels such as Nutanix categories), ``labels`` (the free
  key-value labels: Nova metadata, Glance properties), ``created``, ``updated`` (ISO 8601 strings);
- ``managed`` (created by Souverain) and ``deleted`` (the listing returned it only to say it is gone).

Adding a kind is one ``Kind(...)`` below, or ``register_kind`` from a provider's package for a kind only it has
(docs/development/adding-a-kind.md). No database migration: the inventory's ``kind`` column is free text checked
against this registry. No Django here (the connectors import none).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

#: The keys of the normalised form (see the module's docstring). ``id`` is required, the others optional.
NORMALISED: tuple[str, ...] = (
    "id", "name", "status", "project", "region", "zone", "size", "addresses", "flavor", "vcpus", "ram", "tags",
    "labels", "created", "updated", "managed", "deleted",
)
#: The normalised attributes the inventory keeps beside its indexed columns (name, status, project, tags).
DETAIL_KEYS: tuple[str, ...] = ("region", "zone", "size", "addresses", "flavor", "vcpus", "ram", "labels", "created",
                                "updated")

Normalised = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """One kind of resource, as every provider and the inventory know it."""

    #: The inventory's name (``"server"``): the API's ``kind`` filter, the database column.
    name: str
    #: The connectors' name of its listing (``"servers"``): ``Connector.iter_pages(listing)``.
    listing: str
    #: Display names: English (also the translation catalogue's msgid) and French.
    label_en: str
    label_fr: str
    #: Holds or carries customer data (a server, a volume, an image...): compliance evaluates these kinds only.
    holds_data: bool = False
    #: Read per project (quotas, usage): its id is its project's id, and its name that project's name.
    per_project: bool = False
    #: Where an OpenStack document of this kind keeps its free key-value labels ("metadata"; "" for top-level
    #: keys, Glance's properties; None: none), for compliance's SQL over the stored documents. Providers whose
    #: documents keep labels elsewhere also give them as ``key=value`` tags, which compliance reads as well.
    labels_at: str | None = None
    #: When a region's kinds start: lower first. The longest listings start first, so they overlap short ones.
    start: int = 100

    @property
    def label(self) -> str:
        """The English display name (the catalogue's msgid: ``gettext(kind.label)`` translates it)."""
        return self.label_en

    def display_name(self, language: str | None = None) -> str:
        return self.label_fr if (language or "").lower().startswith("fr") else self.label_en


BUILTIN: tuple[Kind, ...] = (
    Kind("server", "servers", "Server", "Serveur", holds_data=True, labels_at="metadata", start=0),
    Kind("port", "ports", "Port", "Port", start=10),
    Kind("volume", "volumes", "Volume", "Volume", holds_data=True, labels_at="metadata", start=20),
    Kind("security_group_rule", "security_group_rules", "Security group rule", "Règle de groupe de sécurité",
         start=30),
    Kind("image", "images", "Image", "Image", holds_data=True, labels_at="", start=40),
    Kind("snapshot", "snapshots", "Volume snapshot", "Instantané de volume", holds_data=True, labels_at="metadata",
         start=50),
    Kind("quota", "quotas", "Quota", "Quota", per_project=True, start=60),
    Kind("usage", "usage", "Quota usage", "Consommation de quota", per_project=True, start=70),
    Kind("floating_ip", "floating_ips", "Floating IP", "IP flottante", start=80),
    Kind("network", "networks", "Network", "Réseau", start=90),
    Kind("subnet", "subnets", "Subnet", "Sous-réseau", start=100),
    Kind("router", "routers", "Router", "Routeur", start=110),
    Kind("security_group", "security_groups", "Security group", "Groupe de sécurité", start=120),
    Kind("flavor", "flavors", "Flavor", "Gabarit", start=130),
    Kind("project", "projects", "Cloud project", "Projet cloud", start=140),
    Kind("container", "containers", "Object container", "Conteneur d'objets", holds_data=True, start=150),
    # Hyperconverged infrastructure (Nutanix Prism): what VMs run on and store their disks in. Infrastructure,
    # not data: compliance evaluates the VMs and volumes they hold.
    Kind("cluster", "clusters", "Cluster", "Cluster", start=160),
    Kind("host", "hosts", "Host", "Hôte", start=170),
    Kind("storage_container", "storage_containers", "Storage container", "Conteneur de stockage", start=180),
)

_lock = threading.Lock()
_by_name: dict[str, Kind] = {k.name: k for k in BUILTIN}
_by_listing: dict[str, Kind] = {k.listing: k for k in BUILTIN}


def register_kind(kind: Kind) -> Kind:
    """Add a kind (a provider's package does it when imported, for a kind only it has). Registering the same
    kind twice is harmless; another kind under a taken name or listing is refused."""
    with _lock:
        for taken in (_by_name.get(kind.name), _by_listing.get(kind.listing)):
            if taken is not None and taken != kind:
                raise ValueError(f"kind {kind.name!r} ({kind.listing}) clashes with the registered {taken!r}")
        _by_name[kind.name] = kind
        _by_listing[kind.listing] = kind
    return kind


def unregister_kind(name: str) -> None:
    """Remove a registered kind (tests that register a hypothetical provider's kinds clean up with it)."""
    with _lock:
        kind = _by_name.pop(name, None)
        if kind is not None:
            _by_listing.pop(kind.listing, None)


def all_kinds() -> tuple[Kind, ...]:
    """Every registered kind, in start order (then by name)."""
    with _lock:
        return tuple(sorted(_by_name.values(), key=lambda k: (k.start, k.name)))


def get_kind(name_or_listing: str) -> Kind:
    """The kind named ``server`` or listed as ``servers``; ValueError naming the known ones otherwise."""
    with _lock:
        found = _by_name.get(name_or_listing) or _by_listing.get(name_or_listing)
        known = sorted(_by_name)
    if found is None:
        raise ValueError(f"unknown resource kind {name_or_listing!r}; kinds: {', '.join(known)}")
    return found


def find_kind(name_or_listing: str) -> Kind | None:
    with _lock:
        return _by_name.get(name_or_listing) or _by_listing.get(name_or_listing)


def listings() -> tuple[str, ...]:
    return tuple(k.listing for k in all_kinds())


def check_normalised(kind: str, item: Normalised) -> Normalised:
    """``item`` if it is a normalised form. KeyError when it has no ``id`` (the inventory skips such an object and
    counts it), ValueError naming the unknown keys otherwise: a connector that strays from the form fails the
    kind's listing loudly rather than having its extra keys dropped."""
    if not isinstance(item, dict):
        raise TypeError(f"a normalised {kind} is a dict, not {type(item).__name__}")
    if item.get("id") in (None, ""):
        raise KeyError(f"a normalised {kind} needs an id")
    unknown = set(item) - set(NORMALISED)
    if unknown:
        raise ValueError(f"normalised {kind} has unknown key(s): {', '.join(sorted(unknown))}")
    return item
