"""The OpenStack connector: the ``Connector`` verbs as raw REST calls through openstacksdk's session.

Raw calls rather than SDK resources because the inventory wants the API's own representation (an SDK
resource renames fields and drops unknown ones) and because they are faster. openstacksdk still does
what it is good at: clouds.yaml, authentication, the service catalog, version discovery.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from openstack import connection as sdk_connection

from ..base import Connector, Page, Resource
from ..errors import NotFound, NotSupported
from ..registry import register
from ..retry import RetryPolicy
from . import incremental, normalise, paging
from .capacity import read_capacity
from .connection import connect
from .kinds import KINDS, QUOTA_APIS, Kind
from .transport import Transport

_IMAGE_PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}


#: A clouds.yaml entry's (or config's) key capping the microversions asked for, per service type, e.g.
#: ``souverain_max_microversions: {compute: "2.60", block-storage: "3.50"}`` for a vendor distribution whose
#: advertised range is wider than what it implements (tests/functional/test_fusionsphere.py).
MAX_MICROVERSIONS_KEY = "souverain_max_microversions"


@register("openstack")
class OpenStackConnector(Connector):
    """One region of one OpenStack cloud.

    ``cloud`` names a clouds.yaml entry; ``config`` is instead an entry's content (``auth``,
    ``region_name``, ``interface``...) for credentials kept by the application, and ``name`` then
    names the cloud in errors and logs. ``all_projects`` forces (or forbids) listing every project;
    by default the connector lists every project when the token carries the ``admin`` role.
    ``api_timeout`` bounds each HTTP request, ``retry`` how transient failures are retried. The entry may cap
    the microversions asked for (``souverain_max_microversions``): vendor distributions (FusionSphere-type) run
    older ranges or advertise more than they implement. Unknown fields in answers and unknown services in the
    catalogue are ignored: documents are stored whole and only the registry's kinds are looked up.
    """

    display_name = "OpenStack"
    kinds = (*KINDS, "quotas", "usage")
    incremental_kinds = frozenset(name for name, spec in KINDS.items() if spec.since is not None)

    @classmethod
    def normalise(cls, kind: str, item: Resource) -> dict[str, Any]:
        return normalise.normalise(kind, item)

    def __init__(
        self,
        cloud: str | None = None,
        *,
        region: str | None = None,
        config: Mapping[str, Any] | None = None,
        name: str | None = None,
        all_projects: bool | None = None,
        api_timeout: float | None = 60.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        conn = connect(cloud, region=region, config=config, api_timeout=api_timeout)
        self._conn = conn
        self._cloud = name or cloud or conn.config.name or "openstack"
        self._region: str | None = conn.config.get_region_name() or region
        self._all_projects = all_projects
        self._quota_name_cache: dict[str, set[str]] | None = None
        self._refused: set[str] = set()  # kinds whose time filter this cloud refused
        caps = conn.config.config.get(MAX_MICROVERSIONS_KEY) or {}
        if not isinstance(caps, Mapping):
            raise ValueError(f"{MAX_MICROVERSIONS_KEY} must map service types to microversions")
        self._t = Transport(conn, cloud=self._cloud, region=self._region, retry=retry or RetryPolicy(),
                            # openstacksdk turns "-" into "_" in the config's keys: service types have "-".
                            max_microversions={str(k).replace("_", "-"): str(v) for k, v in caps.items()})

    # -- identity of the connection -------------------------------------------------------------

    @property
    def cloud(self) -> str:
        return self._cloud

    @property
    def region(self) -> str | None:
        return self._region

    @property
    def connection(self) -> sdk_connection.Connection:
        """The underlying openstacksdk Connection, for what this interface does not cover."""
        return self._conn

    def supports(self, kind: str) -> bool:
        if kind in ("quotas", "usage"):
            return any(self._t.has_service(service) for service in QUOTA_APIS)
        if kind not in KINDS:
            return False  # another provider's kind (the registry holds every installed provider's): not listed here
        return self._t.has_service(_kind(kind).service)

    def lists_all_projects(self) -> bool:
        """Whether listings cover every project (asked for, or the token carries the admin role)."""
        if self._all_projects is None:
            self._all_projects = "admin" in (self._t.access().role_names or [])
        return self._all_projects

    def capacity(self) -> Resource:
        """Placement's inventories and usages with Nova's zones: see ``openstack.capacity``."""
        return read_capacity(self._t)

    # -- generic listing ------------------------------------------------------------------------

    def iter_pages(
        self, kind: str, *, changes_since: datetime | None = None, page_size: int | None = None
    ) -> Iterator[Page]:
        if kind == "quotas":
            return self._per_project_pages(self.quotas, page_size)
        if kind == "usage":
            return self._per_project_pages(self.usage, page_size)
        spec = self._supported(kind)
        everyone = self.lists_all_projects()
        params = dict(spec.all_projects) if everyone else {}
        if spec.service == "object-store":
            params["format"] = "json"
        path = spec.own_list_path if spec.own_list_path and not everyone else spec.list_path or spec.path
        if changes_since is None:
            return paging.iter_pages(self._t, spec, path, params, page_size)
        return incremental.changed_pages(self._t, spec, path, params, changes_since, page_size, self._refused)

    # -- generic verbs behind the typed ones ----------------------------------------------------

    def _supported(self, kind: str) -> Kind:
        spec = _kind(kind)
        if not self.supports(kind):
            raise NotSupported(f"{kind}: no {spec.service} service in this cloud's catalog",
                               cloud=self.cloud, region=self.region)
        return spec

    def _get(self, kind: str, id: str) -> Resource:
        spec = _kind(kind)
        body = self._t.get_json(spec.service, _item_path(spec, id))
        return _unwrap(spec, body)

    def _create(self, kind: str, attrs: Mapping[str, Any]) -> Resource:
        spec = _kind(kind)
        body = {k: v for k, v in attrs.items() if v is not None}
        response = self._t.request(spec.service, "POST", spec.path, json=_wrap(spec, body))
        return _unwrap(spec, response.json())

    def _update(self, kind: str, id: str, attrs: Mapping[str, Any], method: str = "PUT") -> Resource:
        spec = _kind(kind)
        response = self._t.request(spec.service, method, _item_path(spec, id), json=_wrap(spec, dict(attrs)))
        return _unwrap(spec, response.json())

    def _delete(self, kind: str, id: str, ignore_missing: bool) -> None:
        spec = _kind(kind)
        try:
            self._t.request(spec.service, "DELETE", _item_path(spec, id))
        except NotFound:
            if not ignore_missing:
                raise

    # -- servers --------------------------------------------------------------------------------

    def get_server(self, id: str) -> Resource:
        return self._get("servers", id)

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
        body: dict[str, Any] = {"name": name, "flavorRef": flavor_id, "imageRef": image_id, **attrs}
        microversion = self._t.microversion("compute")
        # "auto"/"none" exist from 2.37 on, where networks became mandatory; before, omitting it meant auto.
        if not isinstance(networks, str) or (microversion is not None and microversion >= (2, 37)):
            body["networks"] = networks
        if min_count != 1 or max_count is not None:
            body.update(min_count=min_count, max_count=max_count or min_count)
        return self._create("servers", body)

    def update_server(self, id: str, **attrs: Any) -> Resource:
        return self._update("servers", id, attrs)

    def delete_server(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("servers", id, ignore_missing)

    # -- flavors --------------------------------------------------------------------------------

    def get_flavor(self, id: str) -> Resource:
        return self._get("flavors", id)

    def create_flavor(
        self, name: str, *, ram: int, vcpus: int, disk: int = 0, is_public: bool = True, **attrs: Any
    ) -> Resource:
        return self._create("flavors", {"name": name, "ram": ram, "vcpus": vcpus, "disk": disk,
                                        "os-flavor-access:is_public": is_public, **attrs})

    def delete_flavor(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("flavors", id, ignore_missing)

    # -- images ---------------------------------------------------------------------------------

    def get_image(self, id: str) -> Resource:
        return self._get("images", id)

    def create_image(
        self,
        name: str,
        *,
        data: bytes | None = None,
        disk_format: str = "raw",
        container_format: str = "bare",
        **attrs: Any,
    ) -> Resource:
        image = self._create("images", {"name": name, "disk_format": disk_format,
                                        "container_format": container_format, **attrs})
        if data is None:
            return image
        self._t.request("image", "PUT", f"/images/{quote(image['id'], safe='')}/file", data=data,
                        headers={"Content-Type": "application/octet-stream"})
        return self.get_image(image["id"])

    def update_image(self, id: str, **attrs: Any) -> Resource:
        # Glance takes a JSON patch, in which "replace" needs an existing property and "add" a new one.
        current = self.get_image(id)
        patch = [{"op": "replace" if key in current else "add", "path": f"/{key}", "value": value}
                 for key, value in attrs.items()]
        response = self._t.request("image", "PATCH", f"/images/{quote(id, safe='')}", json=patch,
                                   headers=_IMAGE_PATCH)
        image: Resource = response.json()
        return image

    def delete_image(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("images", id, ignore_missing)

    # -- volumes and snapshots ------------------------------------------------------------------

    def get_volume(self, id: str) -> Resource:
        return self._get("volumes", id)

    def create_volume(self, size: int, *, name: str | None = None, **attrs: Any) -> Resource:
        return self._create("volumes", {"size": size, "name": name, **attrs})

    def update_volume(self, id: str, **attrs: Any) -> Resource:
        return self._update("volumes", id, attrs)

    def delete_volume(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("volumes", id, ignore_missing)

    def get_snapshot(self, id: str) -> Resource:
        return self._get("snapshots", id)

    def create_snapshot(
        self, volume_id: str, *, name: str | None = None, force: bool = False, **attrs: Any
    ) -> Resource:
        # Sent only when set: from 3.66 on, Cinder refuses force=False and ignores force=True.
        return self._create("snapshots", {"volume_id": volume_id, "name": name, "force": force or None, **attrs})

    def update_snapshot(self, id: str, **attrs: Any) -> Resource:
        return self._update("snapshots", id, attrs)

    def delete_snapshot(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("snapshots", id, ignore_missing)

    # -- networking -----------------------------------------------------------------------------

    def get_network(self, id: str) -> Resource:
        return self._get("networks", id)

    def create_network(self, name: str, **attrs: Any) -> Resource:
        return self._create("networks", {"name": name, **attrs})

    def update_network(self, id: str, **attrs: Any) -> Resource:
        return self._update("networks", id, attrs)

    def delete_network(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("networks", id, ignore_missing)

    def get_subnet(self, id: str) -> Resource:
        return self._get("subnets", id)

    def create_subnet(
        self, network_id: str, *, cidr: str, ip_version: int = 4, name: str | None = None, **attrs: Any
    ) -> Resource:
        return self._create("subnets", {"network_id": network_id, "cidr": cidr, "ip_version": ip_version,
                                        "name": name, **attrs})

    def update_subnet(self, id: str, **attrs: Any) -> Resource:
        return self._update("subnets", id, attrs)

    def delete_subnet(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("subnets", id, ignore_missing)

    def get_router(self, id: str) -> Resource:
        return self._get("routers", id)

    def create_router(self, name: str, *, external_network_id: str | None = None, **attrs: Any) -> Resource:
        gateway = {"external_gateway_info": {"network_id": external_network_id}} if external_network_id else {}
        return self._create("routers", {"name": name, **gateway, **attrs})

    def update_router(self, id: str, **attrs: Any) -> Resource:
        return self._update("routers", id, attrs)

    def delete_router(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("routers", id, ignore_missing)

    def add_interface_to_router(
        self, router_id: str, *, subnet_id: str | None = None, port_id: str | None = None
    ) -> Resource:
        return self._router_interface(router_id, "add_router_interface", subnet_id, port_id)

    def remove_interface_from_router(
        self, router_id: str, *, subnet_id: str | None = None, port_id: str | None = None
    ) -> Resource:
        return self._router_interface(router_id, "remove_router_interface", subnet_id, port_id)

    def _router_interface(self, router_id: str, action: str, subnet_id: str | None, port_id: str | None) -> Resource:
        if (subnet_id is None) == (port_id is None):
            raise ValueError("give one of subnet_id and port_id")
        body = {"subnet_id": subnet_id} if subnet_id else {"port_id": port_id}
        response = self._t.request("network", "PUT", f"/routers/{quote(router_id, safe='')}/{action}", json=body)
        interface: Resource = response.json()
        return interface

    def get_port(self, id: str) -> Resource:
        return self._get("ports", id)

    def create_port(self, network_id: str, *, name: str | None = None, **attrs: Any) -> Resource:
        return self._create("ports", {"network_id": network_id, "name": name, **attrs})

    def update_port(self, id: str, **attrs: Any) -> Resource:
        return self._update("ports", id, attrs)

    def delete_port(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("ports", id, ignore_missing)

    def get_security_group(self, id: str) -> Resource:
        return self._get("security_groups", id)

    def create_security_group(self, name: str, *, description: str = "", **attrs: Any) -> Resource:
        return self._create("security_groups", {"name": name, "description": description, **attrs})

    def update_security_group(self, id: str, **attrs: Any) -> Resource:
        return self._update("security_groups", id, attrs)

    def delete_security_group(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("security_groups", id, ignore_missing)

    def get_security_group_rule(self, id: str) -> Resource:
        return self._get("security_group_rules", id)

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
        return self._create("security_group_rules", {
            "security_group_id": security_group_id, "direction": direction, "ethertype": ethertype,
            "protocol": protocol, "port_range_min": port_range_min, "port_range_max": port_range_max,
            "remote_ip_prefix": remote_ip_prefix, **attrs,
        })

    def delete_security_group_rule(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("security_group_rules", id, ignore_missing)

    def get_floating_ip(self, id: str) -> Resource:
        return self._get("floating_ips", id)

    def create_floating_ip(self, floating_network_id: str, *, port_id: str | None = None, **attrs: Any) -> Resource:
        return self._create("floating_ips", {"floating_network_id": floating_network_id, "port_id": port_id,
                                             **attrs})

    def update_floating_ip(self, id: str, **attrs: Any) -> Resource:
        return self._update("floating_ips", id, attrs)

    def delete_floating_ip(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("floating_ips", id, ignore_missing)

    # -- object storage -------------------------------------------------------------------------

    def get_container(self, name: str) -> Resource:
        spec = self._supported("containers")
        headers = self._t.request(spec.service, "HEAD", _item_path(spec, name)).headers
        # The same keys as an account listing's entries, so that get and list agree.
        return {"name": name, "count": int(headers.get("X-Container-Object-Count", 0)),
                "bytes": int(headers.get("X-Container-Bytes-Used", 0))}

    def create_container(self, name: str, **attrs: Any) -> Resource:
        spec = self._supported("containers")
        # Swift takes container settings as headers (X-Container-Read, X-Container-Meta-*...).
        self._t.request(spec.service, "PUT", _item_path(spec, name), headers={k: str(v) for k, v in attrs.items()})
        return self.get_container(name)

    def delete_container(self, name: str, ignore_missing: bool = True) -> None:
        self._supported("containers")
        self._delete("containers", name, ignore_missing)

    # -- projects, quotas, usage ----------------------------------------------------------------

    def get_project(self, id: str) -> Resource:
        return self._get("projects", id)

    def create_project(
        self, name: str, *, domain_id: str = "default", description: str = "", **attrs: Any
    ) -> Resource:
        return self._create("projects", {"name": name, "domain_id": domain_id, "description": description,
                                         **attrs})

    def update_project(self, id: str, **attrs: Any) -> Resource:
        return self._update("projects", id, attrs, method="PATCH")

    def delete_project(self, id: str, ignore_missing: bool = True) -> None:
        self._delete("projects", id, ignore_missing)

    def quotas(self, project_id: str) -> Resource:
        return {service: self._t.get_json(service, api.path.format(quote(project_id, safe="")))[api.key]
                for service, api in QUOTA_APIS.items() if self._t.has_service(service)}

    def set_quotas(self, project_id: str, **limits: int) -> Resource:
        # Each service names its limits differently (instances, volumes, port...): route by name.
        names = self._quota_names(project_id)
        changes: dict[str, dict[str, int]] = {}
        for key, value in limits.items():
            owners = [service for service, known in names.items() if key in known]
            if len(owners) != 1:
                raise ValueError(f"quota {key!r} is {'ambiguous' if owners else 'unknown'} on this cloud; "
                                 f"known: {sorted(set().union(*names.values()))}")
            changes.setdefault(owners[0], {})[key] = value
        changed: Resource = {}
        for service, values in changes.items():
            api = QUOTA_APIS[service]
            response = self._t.request(service, "PUT", api.path.format(quote(project_id, safe="")),
                                       json={api.key: values})
            changed[service] = response.json()[api.key]
        return changed

    def _quota_names(self, project_id: str) -> dict[str, set[str]]:
        # The names are the cloud's, the same for every project: read them once.
        if self._quota_name_cache is None:
            quotas = self.quotas(project_id)
            self._quota_name_cache = {service: set(quota) - {"id"} for service, quota in quotas.items()}
        return self._quota_name_cache

    def usage(self, project_id: str) -> Resource:
        return {service: self._t.get_json(service, api.usage_path.format(quote(project_id, safe="")),
                                          api.usage_params)[api.key]
                for service, api in QUOTA_APIS.items() if self._t.has_service(service)}


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown resource kind {kind!r}; kinds: {', '.join(KINDS)}") from None


def _item_path(spec: Kind, id: str) -> str:
    # Quoted whole: an id or container name must never be able to climb to another path.
    return f"{spec.path}/{quote(id, safe='')}"


def _wrap(spec: Kind, body: dict[str, Any]) -> Any:
    return body if spec.singular is None else {spec.singular: body}


def _unwrap(spec: Kind, body: Any) -> Resource:
    result: Resource = body if spec.singular is None else body[spec.singular]
    return result
