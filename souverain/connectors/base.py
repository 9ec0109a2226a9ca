"""The connector interface every cloud provider implements.

Verbs follow openstacksdk (``servers()``, ``get_server``, ``create_server``,
``delete_server(ignore_missing=True)``, ``wait_for_server``) so that people who know the SDK know this
layer. Unlike the SDK, every verb returns plain dicts in the provider API's own JSON representation
(the keys the REST API uses, not SDK attribute names): the inventory stores them as they come, and a
second provider does not have to imitate openstacksdk's resource classes.

A provider must implement only the listing (Apache Libcloud's model): its identity (``cloud``, ``region``),
``kinds`` (the registry kinds it lists, ``connectors.kinds``), ``iter_pages`` and ``normalise`` (its documents in
the registry's normalised form, which is all the inventory reads of them besides storing them). Every other
verb is optional: one a provider does not implement raises ``NotSupported`` saying "<verb> is not supported by
this provider (<name>)". Listings and waiters are derived here, once.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ConnectorError, NotFound, NotSupported, Timeout
from .kinds import BUILTIN, Normalised, find_kind

if TYPE_CHECKING:
    from .provisioning import Provisioner

#: One object in the provider API's own JSON representation.
Resource = dict[str, Any]
#: One page of a listing, as the API returned it.
Page = list[Resource]

#: The listings of the built-in kinds (the registry's, ``connectors.kinds``; a provider may register more).
RESOURCE_KINDS: tuple[str, ...] = tuple(k.listing for k in BUILTIN)

#: Default bound for the ``wait_for_*`` helpers, in seconds.
WAIT_TIMEOUT = 300.0


class Connector(abc.ABC):
    """A connection to one region of one cloud, with one set of credentials.

    Listings cover every project the credentials can see: all projects for an administrator, the
    credentials' own project otherwise. Given ``changes_since``, a listing holds the objects changed
    since then, to the second (the provider filters its listing itself where the API cannot); kinds
    without a change time are listed in full. Deleted objects appear only where the API reports them
    (see each provider's notes): callers that must notice deletions compare with a full listing from
    time to time.

    ``create_*`` and ``update_*`` take the API's own field names for anything beyond their named
    arguments, and every verb answers with the API's own representation.
    """

    #: The registry key of the provider (``"openstack"``), set by ``registry.register``.
    provider: ClassVar[str] = ""
    #: The provider's name as people write it (``"OpenStack"``), shown as a cloud's kind.
    display_name: ClassVar[str] = ""

    # -- identity of the connection -------------------------------------------------------------

    @property
    @abc.abstractmethod
    def cloud(self) -> str:
        """The cloud's name as configured (a clouds.yaml entry, or the name given with the config)."""

    @property
    @abc.abstractmethod
    def region(self) -> str | None:
        """The region this connector talks to."""

    #: The listings of the registry kinds (``connectors.kinds``) this provider can list (``"servers"``...).
    kinds: ClassVar[tuple[str, ...]] = ()
    #: Those whose listing accepts ``changes_since`` (the others are always listed whole).
    incremental_kinds: ClassVar[frozenset[str]] = frozenset()
    #: False when the API may return a set of sub-objects (``[{"id": ...}, ...]``) in a different order from one
    #: listing to the next (Neutron's embedded rules): the inventory then sorts such lists before comparing.
    #: True spares that walk over every document (Prism keeps its order).
    stable_order: ClassVar[bool] = False

    def supports(self, kind: str) -> bool:
        """Whether this cloud offers ``kind`` (a listing name). A provider whose clouds differ (OpenStack's service
        catalogue) narrows this; by default, every kind the provider lists."""
        return kind in self.kinds

    @classmethod
    @abc.abstractmethod
    def normalise(cls, kind: str, item: Resource) -> Normalised:
        """``item``, one document of listing ``kind`` as ``iter_pages`` yields it, in the registry's normalised
        form (``connectors.kinds``). A pure function of the document: the inventory also calls it on documents
        that provisioning hands over, without a connection."""

    def _unsupported(self, verb: str) -> NotSupported:
        return NotSupported(f"{verb} is not supported by this provider ({self.provider or type(self).__name__})",
                            cloud=self.cloud, region=self.region)

    # -- generic listing ------------------------------------------------------------------------

    @abc.abstractmethod
    def iter_pages(
        self, kind: str, *, changes_since: datetime | None = None, page_size: int | None = None
    ) -> Iterator[Page]:
        """Yield the pages of a listing of ``kind``, as the API returned them.

        A page is fetched only while the previous one came back full, so a listing costs one request
        per page and no trailing empty request. ``page_size`` is a wish: the cloud may cap it.
        Raises ``NotSupported`` when the cloud lacks the kind.

        Pages are fetched lazily and each starts after the last item of the previous one: do not delete
        that item before asking for the next page (the services answer 404 or 400 for a missing marker).
        """

    def _items(self, kind: str, changes_since: datetime | None = None) -> Iterator[Resource]:
        for page in self.iter_pages(kind, changes_since=changes_since):
            yield from page

    # -- servers --------------------------------------------------------------------------------

    def servers(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("servers", changes_since)

    def get_server(self, id: str) -> Resource:
        raise self._unsupported("get_server")

    def create_server(
        self,
        name: str,
        *,
        flavor_id: str,
        image_id: str | None = None,
        networks: str | list[dict[str, Any]] = "auto",
        min_count: int = 1,
        max_count: int | None = None,
        **attrs: Any,
    ) -> Resource:
        """Ask for a server (or ``min_count`` of them); returns the API's answer, usually id and links.

        ``networks`` is ``"auto"``, ``"none"`` or a list of ``{"uuid": ...}``/``{"port": ...}``.
        ``attrs`` are passed to the API unchanged, under the API's own names.
        """
        raise self._unsupported("create_server")

    def update_server(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_server")

    def delete_server(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_server")

    def wait_for_server(
        self,
        id: str,
        status: str = "ACTIVE",
        *,
        failures: Collection[str] = ("ERROR",),
        timeout: float = WAIT_TIMEOUT,
        interval: float = 0.5,
    ) -> Resource:
        return self._wait(self.get_server, id, status, failures, timeout, interval)

    # -- flavors --------------------------------------------------------------------------------

    def flavors(self) -> Iterator[Resource]:
        return self._items("flavors")

    def get_flavor(self, id: str) -> Resource:
        raise self._unsupported("get_flavor")

    def create_flavor(
        self, name: str, *, ram: int, vcpus: int, disk: int = 0, is_public: bool = True, **attrs: Any
    ) -> Resource:
        raise self._unsupported("create_flavor")

    def delete_flavor(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_flavor")

    # -- images ---------------------------------------------------------------------------------

    def images(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("images", changes_since)

    def get_image(self, id: str) -> Resource:
        raise self._unsupported("get_image")

    def create_image(
        self,
        name: str,
        *,
        data: bytes | None = None,
        disk_format: str = "raw",
        container_format: str = "bare",
        **attrs: Any,
    ) -> Resource:
        """Register an image and, when ``data`` is given, upload it."""
        raise self._unsupported("create_image")

    def update_image(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_image")

    def delete_image(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_image")

    def wait_for_image(
        self,
        id: str,
        status: str = "active",
        *,
        failures: Collection[str] = ("killed",),
        timeout: float = WAIT_TIMEOUT,
        interval: float = 0.5,
    ) -> Resource:
        return self._wait(self.get_image, id, status, failures, timeout, interval)

    # -- volumes and snapshots ------------------------------------------------------------------

    def volumes(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("volumes", changes_since)

    def get_volume(self, id: str) -> Resource:
        raise self._unsupported("get_volume")

    def create_volume(self, size: int, *, name: str | None = None, **attrs: Any) -> Resource:
        raise self._unsupported("create_volume")

    def update_volume(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_volume")

    def delete_volume(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_volume")

    def wait_for_volume(
        self,
        id: str,
        status: str = "available",
        *,
        failures: Collection[str] = ("error",),
        timeout: float = WAIT_TIMEOUT,
        interval: float = 0.5,
    ) -> Resource:
        return self._wait(self.get_volume, id, status, failures, timeout, interval)

    def snapshots(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("snapshots", changes_since)

    def get_snapshot(self, id: str) -> Resource:
        raise self._unsupported("get_snapshot")

    def create_snapshot(
        self, volume_id: str, *, name: str | None = None, force: bool = False, **attrs: Any
    ) -> Resource:
        raise self._unsupported("create_snapshot")

    def update_snapshot(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_snapshot")

    def delete_snapshot(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_snapshot")

    def wait_for_snapshot(
        self,
        id: str,
        status: str = "available",
        *,
        failures: Collection[str] = ("error",),
        timeout: float = WAIT_TIMEOUT,
        interval: float = 0.5,
    ) -> Resource:
        return self._wait(self.get_snapshot, id, status, failures, timeout, interval)

    # -- networking -----------------------------------------------------------------------------

    def networks(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("networks", changes_since)

    def get_network(self, id: str) -> Resource:
        raise self._unsupported("get_network")

    def create_network(self, name: str, **attrs: Any) -> Resource:
        raise self._unsupported("create_network")

    def update_network(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_network")

    def delete_network(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_network")

    def subnets(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("subnets", changes_since)

    def get_subnet(self, id: str) -> Resource:
        raise self._unsupported("get_subnet")

    def create_subnet(
        self, network_id: str, *, cidr: str, ip_version: int = 4, name: str | None = None, **attrs: Any
    ) -> Resource:
        raise self._unsupported("create_subnet")

    def update_subnet(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_subnet")

    def delete_subnet(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_subnet")

    def routers(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("routers", changes_since)

    def get_router(self, id: str) -> Resource:
        raise self._unsupported("get_router")

    def create_router(self, name: str, *, external_network_id: str | None = None, **attrs: Any) -> Resource:
        raise self._unsupported("create_router")

    def update_router(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_router")

    def delete_router(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_router")

    def add_interface_to_router(
        self, router_id: str, *, subnet_id: str | None = None, port_id: str | None = None
    ) -> Resource:
        raise self._unsupported("add_interface_to_router")

    def remove_interface_from_router(
        self, router_id: str, *, subnet_id: str | None = None, port_id: str | None = None
    ) -> Resource:
        raise self._unsupported("remove_interface_from_router")

    def ports(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("ports", changes_since)

    def get_port(self, id: str) -> Resource:
        raise self._unsupported("get_port")

    def create_port(self, network_id: str, *, name: str | None = None, **attrs: Any) -> Resource:
        raise self._unsupported("create_port")

    def update_port(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_port")

    def delete_port(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_port")

    def security_groups(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("security_groups", changes_since)

    def get_security_group(self, id: str) -> Resource:
        raise self._unsupported("get_security_group")

    def create_security_group(self, name: str, *, description: str = "", **attrs: Any) -> Resource:
        raise self._unsupported("create_security_group")

    def update_security_group(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_security_group")

    def delete_security_group(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_security_group")

    def security_group_rules(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("security_group_rules", changes_since)

    def get_security_group_rule(self, id: str) -> Resource:
        raise self._unsupported("get_security_group_rule")

    def create_security_group_rule(
        self,
        security_group_id: str,
        *,
        direction: str = "ingress",
        ethertype: str = "IPv4",
        protocol: str | None = None,
        port_range_min: int | None = None,
        port_range_max: int | None = None,
        remote_ip_prefix: str | None = None,
        **attrs: Any,
    ) -> Resource:
        raise self._unsupported("create_security_group_rule")

    def delete_security_group_rule(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_security_group_rule")

    def floating_ips(self, changes_since: datetime | None = None) -> Iterator[Resource]:
        return self._items("floating_ips", changes_since)

    def get_floating_ip(self, id: str) -> Resource:
        raise self._unsupported("get_floating_ip")

    def create_floating_ip(self, floating_network_id: str, *, port_id: str | None = None, **attrs: Any) -> Resource:
        raise self._unsupported("create_floating_ip")

    def update_floating_ip(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_floating_ip")

    def delete_floating_ip(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_floating_ip")

    # -- object storage -------------------------------------------------------------------------

    def containers(self) -> Iterator[Resource]:
        return self._items("containers")

    def get_container(self, name: str) -> Resource:
        raise self._unsupported("get_container")

    def create_container(self, name: str, **attrs: Any) -> Resource:
        raise self._unsupported("create_container")

    def delete_container(self, name: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_container")

    # -- projects, quotas, usage ----------------------------------------------------------------

    def projects(self) -> Iterator[Resource]:
        return self._items("projects")

    def get_project(self, id: str) -> Resource:
        raise self._unsupported("get_project")

    def create_project(
        self, name: str, *, domain_id: str = "default", description: str = "", **attrs: Any
    ) -> Resource:
        raise self._unsupported("create_project")

    def update_project(self, id: str, **attrs: Any) -> Resource:
        raise self._unsupported("update_project")

    def delete_project(self, id: str, ignore_missing: bool = True) -> None:
        raise self._unsupported("delete_project")

    def quotas(self, project_id: str) -> Resource:
        """The project's limits, grouped by service (e.g. ``{"compute": {...}, "network": {...}}``)."""
        raise self._unsupported("quotas")

    def set_quotas(self, project_id: str, **limits: int) -> Resource:
        """Change some limits, named as the API names them (``instances``, ``volumes``, ``port``...).

        Returns what each service that was changed answered, grouped like ``quotas``.
        """
        raise self._unsupported("set_quotas")

    def usage(self, project_id: str) -> Resource:
        """What the project uses against each limit, grouped by service like ``quotas``."""
        raise self._unsupported("usage")

    def _per_project_pages(self, read: Callable[[str], Resource], page_size: int | None) -> Iterator[Page]:
        """Pages of ``read(project_id)`` for every visible project: how quotas and usage are inventoried.

        The APIs have no listing across projects for these, so this costs one call per project and
        service; ``project_id`` is added to each dict so the page can be stored as it is.
        """
        for projects in self.iter_pages("projects", page_size=page_size):
            yield [{"project_id": project["id"], **read(project["id"])} for project in projects]

    # -- provisioning (optional capability) ------------------------------------------------------

    def provisioner(self) -> Provisioner:
        """Composite creation and day-2 actions (``connectors.provisioning``); NotSupported when the provider
        has no provisioning module."""
        from .provisioning import provisioner_for

        return provisioner_for(self)

    # -- capacity (optional capability) ---------------------------------------------------------

    def capacity(self) -> Resource:
        """The region's capacity: ``{"providers": [...], "region": {class: figures}, "zones": {zone: {class:
        figures}}}``, figures being total, reserved, allocatable, used, free (see ``openstack.capacity``).
        NotSupported when the provider cannot tell."""
        raise NotSupported(f"{self.provider or type(self).__name__} connectors do not report capacity",
                           cloud=self.cloud, region=self.region)

    # -- waiting --------------------------------------------------------------------------------

    def wait_for_delete(
        self, kind: str, id: str, *, timeout: float = WAIT_TIMEOUT, interval: float = 0.5
    ) -> None:
        """Wait until ``get_<kind>`` says NotFound (deletion is asynchronous for servers, volumes...)."""
        get = self._getter(kind)
        deadline = time.monotonic() + timeout
        delays = _poll_delays(interval)
        while True:
            try:
                get(id)
            except NotFound:
                return
            self._sleep_before(deadline, next(delays), f"{kind} {id} still exists after {timeout:.0f}s")

    def _getter(self, kind: str) -> Callable[[str], Resource]:
        info = find_kind(kind)
        getter = getattr(self, f"get_{info.name}", None) if info is not None and not info.per_project else None
        if getter is None:
            raise ValueError(f"no getter for kind {kind!r}")
        return getter  # type: ignore[no-any-return]

    def _wait(
        self,
        get: Callable[[str], Resource],
        id: str,
        status: str,
        failures: Collection[str],
        timeout: float,
        interval: float,
    ) -> Resource:
        deadline = time.monotonic() + timeout
        failed = {f.lower() for f in failures}
        delays = _poll_delays(interval)
        while True:
            current = get(id)
            state = str(current.get("status", ""))
            if state.lower() == status.lower():
                return current
            if state.lower() in failed:
                # A failure status is an answer, not a transient state: waiting longer will not help.
                raise ConnectorError(f"{id} went to {state} while waiting for {status}",
                                     cloud=self.cloud, region=self.region)
            self._sleep_before(deadline, next(delays), f"{id} still {state} after {timeout:.0f}s (wanted {status})")

    def _sleep_before(self, deadline: float, delay: float, message: str) -> None:
        if time.monotonic() + delay > deadline:
            raise Timeout(message, cloud=self.cloud, region=self.region)
        time.sleep(delay)

    def __repr__(self) -> str:
        # Never include configuration here: it may hold credentials.
        return f"<{type(self).__name__} {self.provider}:{self.cloud}/{self.region}>"


def _poll_delays(first: float) -> Iterator[float]:
    """Polling intervals growing from ``first`` to 5 s.

    Short first polls because the test-bed and small objects settle in seconds; the cap keeps a long
    wait on a real cloud from sending hundreds of requests.
    """
    delay = first
    while True:
        yield delay
        delay = min(delay * 1.5, 5.0)

