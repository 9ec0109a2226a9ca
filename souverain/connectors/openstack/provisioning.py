"""Provisioning on OpenStack: composite creation from ``connectors.provisioning`` specs, day-2 server actions.

How each kind carries its request, set in the create call itself so that no object ever exists unmarked
(a worker killed right after the POST leaves an object the next attempt finds):

- servers: Nova tag ``souverain:request=<ref>`` (listing filter ``tags=``, microversion 2.52+ at create) and
  metadata with the ref, the part, the classes and ``souverain:managed``;
- volumes: Cinder metadata, the same keys (listing filter ``metadata=``);
- networks, subnets, routers, security groups, floating IPs: the ``description``
  ``souverain:request=<ref> souverain:part=<part>`` (listing filter ``description=``), then the tags
  ``souverain:request=<ref>``, ``souverain:classes=...``, ``souverain-managed`` in a second call: Neutron takes
  tags at creation only with its ``tag`` plugin, which clouds (the test-bed among them) may not run.

Waiting polls the object until it is ready (ACTIVE, available, in-use) and raises on ERROR. Day-2 actions
wait until Nova's ``task_state`` clears and check the status the action should have led to.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from ..base import WAIT_TIMEOUT, Resource
from ..errors import ConnectorError, NotFound, Timeout
from ..provisioning import (
    MANAGED_LABEL,
    PART_LABEL,
    REQUEST_LABEL,
    FloatingIpSpec,
    NetworkSpec,
    Part,
    Progress,
    Provisioned,
    Provisioner,
    ProvisioningFailed,
    SecurityGroupSpec,
    ServerSpec,
    Shortfall,
    Spec,
    VolumeSpec,
    _no_progress,
)
from .connector import OpenStackConnector
from .kinds import QUOTA_APIS

#: Nova tags are at most 60 characters and may hold neither "/" nor ",": the ref is kept well within.
_REF = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
FLAVOR_TTL = 300.0
#: An image or network found by name is kept this long: requests in a burst name the same ones, and each look-up
#: is a call to a cloud that is busy building their servers. A stale id fails the create with the cloud's own 404.
LOOKUP_TTL = 60.0
#: Waiting polls first after POLL_FIRST seconds, then each interval POLL_GROWTH times the last, up to POLL_MAX.
POLL_FIRST, POLL_GROWTH, POLL_MAX = 0.25, 1.5, 1.0
#: The Neutron kinds a request may create, with the part names each may play, in deletion order.
_NEUTRON_PARTS: dict[str, tuple[str, ...]] = {
    "floating_ips": ("floating-ip",),
    "routers": ("router",),
    "subnets": ("subnet",),
    "networks": ("network",),
    "security_groups": ("security-group",),
}
_NEUTRON_TAG_PATH = {"networks": "networks", "subnets": "subnets", "routers": "routers",
                     "security_groups": "security-groups", "floating_ips": "floatingips"}


def _q(id: str) -> str:
    return quote(id, safe="")


class OpenStackProvisioner(Provisioner):
    connector: OpenStackConnector

    def __init__(self, connector: OpenStackConnector, *, timeout: float = WAIT_TIMEOUT) -> None:
        super().__init__(connector)
        self.timeout = timeout
        self._t = connector._t  # the provider's own transport: same package, same conventions
        self._flavors: dict[str, tuple[float, Resource]] = {}
        self._by_name: dict[tuple[str, str], tuple[float, Resource]] = {}

    # -- finding what a ref holds ---------------------------------------------------------------

    def for_project(self, project_id: str) -> OpenStackProvisioner:
        c = self.connector
        if c.connection.current_project_id == project_id:
            return self
        auth = {k: v for k, v in dict(c.connection.config.config.get("auth") or {}).items()
                if k not in ("project_name", "project_id", "project_domain_name", "project_domain_id",
                             "tenant_name", "tenant_id", "domain_id", "domain_name", "system_scope")}
        config = {"auth": {**auth, "project_id": project_id}, "region_name": c.region,
                  "interface": c.connection.config.get_interface(), "identity_api_version": "3"}
        for key in ("auth_type", "verify", "cacert", "cert", "key"):
            if key in c.connection.config.config:
                config[key] = c.connection.config.config[key]
        scoped = OpenStackConnector(config=config, name=c.cloud, region=c.region, all_projects=False)
        return OpenStackProvisioner(scoped, timeout=self.timeout)

    def adopt(self, ref: str, spec: Spec | None = None) -> list[Part]:
        _check_ref(ref)
        kinds = _kinds_of(spec)
        parts: list[Part] = []
        if "servers" in kinds:
            servers = self._t.get_json("compute", "/servers/detail", {"tags": f"{REQUEST_LABEL}={ref}"})["servers"]
            parts += [Part("servers", str((s.get("metadata") or {}).get(PART_LABEL, "server")), s, adopted=True)
                      for s in servers if s.get("status") != "DELETED"]
        if "volumes" in kinds:
            volumes = self._t.get_json("block-storage", "/volumes/detail",
                                       {"metadata": json.dumps({REQUEST_LABEL: ref})})["volumes"]
            # Cinder's metadata filter is exact on the keys given; checked again here in case a cloud ignores it.
            parts += [Part("volumes", str(v["metadata"].get(PART_LABEL, "volume")), v, adopted=True)
                      for v in volumes if (v.get("metadata") or {}).get(REQUEST_LABEL) == ref
                      and v.get("status") not in ("deleting", "error_deleting")]
        for kind, names in _NEUTRON_PARTS.items():
            if kind not in kinds:
                continue
            spec = _neutron_plural(kind)
            for part in names:
                found = self._t.get_json("network", f"/{_NEUTRON_TAG_PATH[kind]}",
                                         {"description": _description(ref, part)})[spec]
                parts += [Part(kind, part, item, adopted=True) for item in found]
        return parts

    # -- creating -------------------------------------------------------------------------------

    def create(self, spec: Spec, ref: str, *, labels: Mapping[str, str] | None = None,
               on_progress: Progress = _no_progress, fresh: bool = False) -> Provisioned:
        _check_ref(ref)
        run = _Run(self, ref, dict(labels or {}), on_progress, [] if fresh else self.adopt(ref, spec))
        try:
            if isinstance(spec, ServerSpec):
                run.server(spec)
            elif isinstance(spec, VolumeSpec):
                run.volume(spec)
            elif isinstance(spec, NetworkSpec):
                run.network(spec)
            elif isinstance(spec, SecurityGroupSpec):
                run.security_group(spec)
            elif isinstance(spec, FloatingIpSpec):
                run.floating_ip(spec)
            else:  # pragma: no cover - the union is closed
                raise TypeError(f"unknown spec {type(spec).__name__}")
        except ConnectorError as exc:
            on_progress(run.fraction, f"failed: {exc}; rolling back")
            rolled_back, left = self.rollback(ref)
            raise ProvisioningFailed(str(exc), ref=ref, rolled_back=rolled_back, left=left, cause=exc,
                                     cloud=self.connector.cloud, region=self.connector.region,
                                     status=exc.status, request_id=exc.request_id) from exc
        on_progress(1.0, "done")
        return Provisioned(ref, tuple(run.parts.values()))

    # -- rolling back ---------------------------------------------------------------------------

    def rollback(self, ref: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        c = self.connector
        found = self.adopt(ref)
        by_kind: dict[str, list[Part]] = {}
        for part in found:
            by_kind.setdefault(part.kind, []).append(part)
        deleted: list[tuple[str, str]] = []
        left: list[tuple[str, str]] = []

        def attempt(kind: str, id: str, delete: Callable[[], object]) -> None:
            try:
                delete()
            except NotFound:
                deleted.append((kind, id))
            except ConnectorError:
                left.append((kind, id))
            else:
                deleted.append((kind, id))

        for part in by_kind.get("floating_ips", []):
            attempt("floating_ips", part.id, lambda p=part: c.delete_floating_ip(p.id))
        for part in by_kind.get("servers", []):
            attempt("servers", part.id, lambda p=part: c.delete_server(p.id))
        for part in by_kind.get("servers", []):
            if ("servers", part.id) in deleted:
                try:
                    c.wait_for_delete("servers", part.id, timeout=self.timeout)
                except ConnectorError:
                    deleted.remove(("servers", part.id))
                    left.append(("servers", part.id))
        for part in by_kind.get("volumes", []):
            attempt("volumes", part.id, lambda p=part: self._delete_volume(p.id))
        for part in by_kind.get("routers", []):
            attempt("routers", part.id, lambda p=part: self._delete_router(p.id))
        for kind in ("subnets", "networks", "security_groups"):
            for part in by_kind.get(kind, []):
                delete = getattr(c, f"delete_{kind[:-1]}")
                attempt(kind, part.id, lambda d=delete, p=part: d(p.id))
        return deleted, left

    def _delete_volume(self, id: str) -> None:
        # A volume still detaching from a deleted server refuses deletion: wait until it is free.
        deadline = time.monotonic() + self.timeout
        while (status := self.connector.get_volume(id).get("status")) in ("in-use", "detaching", "attaching",
                                                                           "creating", "reserved"):
            if time.monotonic() > deadline:
                raise Timeout(f"volume {id} still {status}", cloud=self.connector.cloud,
                              region=self.connector.region)
            time.sleep(0.5)
        self.connector.delete_volume(id)
        self.connector.wait_for_delete("volumes", id, timeout=self.timeout)

    def _delete_router(self, id: str) -> None:
        ports = self._t.get_json("network", "/ports", {"device_id": id,
                                                      "device_owner": "network:router_interface"})["ports"]
        for port in ports:
            self.connector.remove_interface_from_router(id, port_id=port["id"])
        self.connector.delete_router(id)

    # -- the cloud's own quotas -----------------------------------------------------------------

    def quota_shortfalls(self, project_id: str, spec: Spec) -> list[Shortfall]:
        asked: dict[tuple[str, str], int] = {}
        if isinstance(spec, ServerSpec):
            flavor = self.find_flavor(spec.flavor)
            asked[("compute", "instances")] = 1
            asked[("compute", "cores")] = int(flavor["vcpus"])
            asked[("compute", "ram")] = int(flavor["ram"])
            volumes = [size for size in (spec.volume_gb, spec.boot_volume_gb) if size]
            if volumes:
                asked[("block-storage", "volumes")] = len(volumes)
                asked[("block-storage", "gigabytes")] = sum(volumes)
            if spec.floating_ip:
                asked[("network", "floatingip")] = 1
        elif isinstance(spec, VolumeSpec):
            asked[("block-storage", "volumes")] = 1
            asked[("block-storage", "gigabytes")] = spec.size_gb
        elif isinstance(spec, NetworkSpec):
            asked[("network", "network")] = 1
            asked[("network", "subnet")] = 1
            if spec.router:
                asked[("network", "router")] = 1
        elif isinstance(spec, SecurityGroupSpec):
            asked[("network", "security_group")] = 1
            # Neutron adds two egress rules (IPv4, IPv6) to every new group.
            asked[("network", "security_group_rule")] = len(spec.rules) + 2
        elif isinstance(spec, FloatingIpSpec):
            asked[("network", "floatingip")] = 1
        # Only the services the spec uses: a server without volume or floating IP is one call (Nova), not three.
        usage = {service: self._t.get_json(service, api.usage_path.format(_q(project_id)), api.usage_params)[api.key]
                 for service, api in QUOTA_APIS.items()
                 if any(asked_service == service for asked_service, _name in asked) and self._t.has_service(service)}
        shortfalls = []
        for (service, name), count in asked.items():
            entry = (usage.get(service) or {}).get(name)
            if not isinstance(entry, dict):
                continue  # the cloud does not limit this
            limit = int(entry.get("limit", -1))
            used = int(entry.get("in_use", entry.get("used", 0))) + int(entry.get("reserved", 0) or 0)
            if limit >= 0 and used + count > limit:
                shortfalls.append(Shortfall(name, count, used, limit))
        return shortfalls

    # -- day-2 actions --------------------------------------------------------------------------

    def server_action(self, server_id: str, action: str, *, on_progress: Progress = _no_progress,
                      **args: Any) -> Resource | None:
        c = self.connector
        path = f"/servers/{_q(server_id)}"
        if action == "delete":
            c.delete_server(server_id, ignore_missing=False)
            on_progress(0.5, "deleting")
            c.wait_for_delete("servers", server_id, timeout=self.timeout)
            return None
        if action in ("start", "stop", "reboot"):
            body: dict[str, Any] = {"start": {"os-start": None}, "stop": {"os-stop": None},
                                    "reboot": {"reboot": {"type": str(args.get("type", "SOFT")).upper()}}}[action]
            self._t.request("compute", "POST", f"{path}/action", json=body)
            on_progress(0.3, f"{action} asked")
            return self._settled(server_id, "SHUTOFF" if action == "stop" else "ACTIVE", action)
        if action == "resize":
            flavor = self.find_flavor(str(args["flavor"]))
            before = c.get_server(server_id)
            self._t.request("compute", "POST", f"{path}/action", json={"resize": {"flavorRef": flavor["id"]}})
            on_progress(0.3, "resize asked")
            server = self._settled(server_id, None, "resize")
            if server["status"] != "VERIFY_RESIZE":
                raise ConnectorError(
                    f"server {server_id} was not resized to {flavor['name']}: the cloud ended the resize in "
                    f"{server['status']} (flavor still {_flavor_name(server) or _flavor_name(before)}); "
                    f"{self._last_action_error(server_id)}", cloud=c.cloud, region=c.region)
            self._t.request("compute", "POST", f"{path}/action", json={"confirmResize": None})
            on_progress(0.7, "resize confirmed")
            return self._settled(server_id, None, "resize confirmation", wanted_any=("ACTIVE", "SHUTOFF"))
        if action == "attach_volume":
            volume_id = str(args["volume"])
            self._t.request("compute", "POST", f"{path}/os-volume_attachments",
                            json={"volumeAttachment": {"volumeId": volume_id}})
            self.wait_for("volumes", volume_id, "in-use", ("error", "error_attaching"))
            return c.get_server(server_id)
        if action == "detach_volume":
            volume_id = str(args["volume"])
            self._t.request("compute", "DELETE", f"{path}/os-volume_attachments/{_q(volume_id)}")
            self.wait_for("volumes", volume_id, "available", ("error", "error_detaching"))
            return c.get_server(server_id)
        if action == "associate_floating_ip":
            port = self.server_port(server_id)
            c.update_floating_ip(str(args["floating_ip"]), port_id=port["id"])
            return c.get_server(server_id)
        if action == "disassociate_floating_ip":
            c.update_floating_ip(str(args["floating_ip"]), port_id=None)
            return c.get_server(server_id)
        raise ValueError(f"action: {action!r} is not a server action")

    def _settled(self, server_id: str, wanted: str | None, what: str,
                 wanted_any: tuple[str, ...] = ()) -> Resource:
        """Poll until Nova's task_state clears; check the status when one is ``wanted``."""
        c = self.connector
        deadline = time.monotonic() + self.timeout
        delay = 0.3
        while True:
            server = c.get_server(server_id)
            if server.get("OS-EXT-STS:task_state") is None and server.get("status") not in ("RESIZE", "REBOOT",
                                                                                              "HARD_REBOOT", "BUILD"):
                break
            if time.monotonic() + delay > deadline:
                raise Timeout(f"server {server_id}: {what} still running after {self.timeout:.0f}s",
                              cloud=c.cloud, region=c.region)
            time.sleep(delay)
            delay = min(delay * 1.5, 3.0)
        status = str(server.get("status"))
        expected = (wanted,) if wanted else wanted_any
        if expected and status not in expected:
            raise ConnectorError(f"server {server_id}: {what} ended in {status}, not {' or '.join(expected)}; "
                                 f"{self._last_action_error(server_id)}", cloud=c.cloud, region=c.region)
        return server

    def _last_action_error(self, server_id: str) -> str:
        try:
            actions = self._t.get_json("compute", f"/servers/{_q(server_id)}/os-instance-actions")["instanceActions"]
        except ConnectorError:
            return "no detail from the cloud"
        if not actions:
            return "no detail from the cloud"
        last = actions[0]
        return f"last action {last.get('action')}: {last.get('message') or 'no message'}"

    # -- resolving names ------------------------------------------------------------------------

    def find_flavor(self, name_or_id: str) -> Resource:
        # Nova flavors never change (only deleted and made anew, with a new id): kept for FLAVOR_TTL.
        cached = self._flavors.get(name_or_id)
        if cached is not None and time.monotonic() - cached[0] < FLAVOR_TTL:
            return cached[1]
        flavors = list(self.connector.flavors())
        found = [f for f in flavors if f.get("id") == name_or_id] or [f for f in flavors
                                                                        if f.get("name") == name_or_id]
        flavor = self._one("flavor", name_or_id, found)
        self._flavors[name_or_id] = (time.monotonic(), flavor)
        return flavor

    def find_image(self, name_or_id: str) -> Resource:
        # One call either way: an id is looked up, a name filtered on (Glance answers 404 to a name as an id).
        if _UUID.match(name_or_id):
            return self.connector.get_image(name_or_id)
        return self._named("image", name_or_id, lambda: self._t.get_json("image", "/images",
                                                                          {"name": name_or_id})["images"])

    def find_network(self, name_or_id: str, **filters: str) -> Resource:
        if _UUID.match(name_or_id):
            return self.connector.get_network(name_or_id)
        key = name_or_id + "".join(f"&{k}={v}" for k, v in sorted(filters.items()))
        return self._named("network", key, lambda: self._t.get_json("network", "/networks",
                                                                     {"name": name_or_id, **filters})["networks"],
                           wanted=name_or_id)

    def _named(self, what: str, key: str, listing: Callable[[], list[Resource]], wanted: str = "") -> Resource:
        """The one ``what`` a name lists, kept LOOKUP_TTL seconds (only when exactly one was found)."""
        cached = self._by_name.get((what, key))
        if cached is not None and time.monotonic() - cached[0] < LOOKUP_TTL:
            return cached[1]
        found = self._one(what, wanted or key, listing())
        self._by_name[(what, key)] = (time.monotonic(), found)
        return found

    def wait_for(self, kind: str, id: str, status: str, failures: tuple[str, ...] = ("error",)) -> Resource:
        """Poll after 0.25 s, then at intervals growing by half up to 1 s: a small server is ACTIVE within
        seconds, and the connector's waits (growing to 5 s between polls) would add seconds to each. It used to
        poll every 0.25 s for a minute: twenty servers waited on at once were 80 GETs a second, which slowed
        the cloud's API (and the builds themselves) more than the quicker sight of ACTIVE gained."""
        get = self.connector._getter(kind)
        started = time.monotonic()
        wanted, failed = status.lower(), {f.lower() for f in failures}
        delay = POLL_FIRST
        while True:
            current = get(id)
            state = str(current.get("status", "")).lower()
            if state == wanted:
                return current
            if state in failed:
                fault = (current.get("fault") or {}).get("message", "")
                raise ConnectorError(f"{kind[:-1]} {id} went to {state.upper()} while waiting for {status}"
                                     + (f": {fault}" if fault else ""), cloud=self.connector.cloud,
                                     region=self.connector.region)
            elapsed = time.monotonic() - started
            if elapsed > self.timeout:
                raise Timeout(f"{kind[:-1]} {id} still {state} after {self.timeout:.0f}s (wanted {status})",
                              cloud=self.connector.cloud, region=self.connector.region)
            time.sleep(delay)
            delay = min(delay * POLL_GROWTH, POLL_MAX)

    def external_network(self, name_or_id: str | None) -> Resource:
        if name_or_id:
            return self.find_network(name_or_id)
        found = self._t.get_json("network", "/networks", {"router:external": "true"})["networks"]
        return self._one("external network", "(the cloud's only one)", found)

    def server_port(self, server_id: str) -> Resource:
        ports = self._t.get_json("network", "/ports", {"device_id": server_id})["ports"]
        if not ports:
            raise NotFound(f"server {server_id} has no port", cloud=self.connector.cloud,
                           region=self.connector.region)
        return sorted(ports, key=lambda p: str(p.get("created_at", "")))[0]

    def _one(self, what: str, wanted: str, found: list[Resource]) -> Resource:
        c = self.connector
        if not found:
            raise NotFound(f"no {what} {wanted!r} on this cloud", cloud=c.cloud, region=c.region)
        if len(found) > 1:
            raise ConnectorError(f"{len(found)} {what}s are named {wanted!r}: give its id", cloud=c.cloud,
                                 region=c.region, status=409)
        return found[0]


class _Run:
    """One call of ``create``: the parts found or made so far, and the progress to report."""

    def __init__(self, provisioner: OpenStackProvisioner, ref: str, labels: dict[str, str],
                 on_progress: Progress, adopted: list[Part]) -> None:
        self.p = provisioner
        self.c = provisioner.connector
        self.t = provisioner._t
        self.ref = ref
        self.labels = labels
        self.report = on_progress
        self.fraction = 0.0
        self.parts: dict[str, Part] = {part.part: part for part in adopted}
        if self.parts:
            self.progress(0.05, f"found {len(self.parts)} objects of an earlier attempt: "
                                + ", ".join(sorted(self.parts)))

    def progress(self, fraction: float, message: str) -> None:
        self.fraction = fraction
        self.report(fraction, message)

    # -- how each kind carries the ref ----------------------------------------------------------

    def metadata(self, part: str) -> dict[str, str]:
        return {**self.labels, REQUEST_LABEL: self.ref, PART_LABEL: part, MANAGED_LABEL: "true"}

    def neutron(self, kind: str, part: str, create: Callable[[str], Resource]) -> Resource:
        """The part, adopted or created with its marker description, then tagged."""
        if part in self.parts:
            return self.parts[part].resource
        item = create(_description(self.ref, part))
        tags = [f"{REQUEST_LABEL}={self.ref}", "souverain-managed",
                *(f"{key}={value}" for key, value in sorted(self.labels.items()))]
        self.t.request("network", "PUT", f"/{_NEUTRON_TAG_PATH[kind]}/{_q(item['id'])}/tags", json={"tags": tags})
        item = {**item, "tags": tags}
        self.parts[part] = Part(kind, part, item)
        return item

    def refresh(self, part: str, resource: Resource) -> Resource:
        old = self.parts[part]
        self.parts[part] = Part(old.kind, part, resource, old.adopted)
        return resource

    # -- the kinds ------------------------------------------------------------------------------

    def volume(self, spec: VolumeSpec, part: str = "volume", progress: tuple[float, float] = (0.1, 0.9)) -> Resource:
        if part not in self.parts:
            attrs: dict[str, Any] = {"metadata": self.metadata(part)}
            if spec.volume_type:
                attrs["volume_type"] = spec.volume_type
            created = self.c.create_volume(spec.size_gb, name=spec.name, **attrs)
            self.parts[part] = Part("volumes", part, created)
            self.progress(progress[0], f"volume {created['id']} asked")
        volume = self.parts[part].resource
        if volume.get("status") not in ("available", "in-use"):
            volume = self.p.wait_for("volumes", volume["id"], "available")
        self.progress(progress[1], f"volume {volume['id']} available")
        return self.refresh(part, volume)

    def server(self, spec: ServerSpec) -> None:
        flavor = self.p.find_flavor(spec.flavor)
        image = self.p.find_image(spec.image)
        network = self.p.find_network(spec.network)
        self.progress(0.05, "flavor, image and network found")
        if spec.volume_gb and "data-volume" not in self.parts:
            # Asked first so that Cinder works while Nova schedules the server.
            attrs = {"metadata": self.metadata("data-volume")}
            created = self.c.create_volume(spec.volume_gb, name=f"{spec.name}-data", **attrs)
            self.parts["data-volume"] = Part("volumes", "data-volume", created)
        if "server" not in self.parts:
            attrs: dict[str, Any] = {"metadata": self.metadata("server"), "tags": [f"{REQUEST_LABEL}={self.ref}"]}
            if spec.security_groups:
                attrs["security_groups"] = [{"name": group} for group in spec.security_groups]
            if spec.key_name:
                attrs["key_name"] = spec.key_name
            image_id: str | None = image["id"]
            if spec.boot_volume_gb:
                attrs["block_device_mapping_v2"] = [{
                    "boot_index": 0, "uuid": image["id"], "source_type": "image", "destination_type": "volume",
                    "volume_size": spec.boot_volume_gb, "delete_on_termination": True}]
                image_id = None
            created = self.c.create_server(spec.name, flavor_id=flavor["id"], image_id=image_id,
                                           networks=[{"uuid": network["id"]}], **attrs)
            self.parts["server"] = Part("servers", "server", created)
            self.progress(0.15, f"server {created['id']} asked")
        server_id = self.parts["server"].id
        server = self.p.wait_for("servers", server_id, "ACTIVE")
        self.refresh("server", server)
        self.progress(0.6, f"server {server_id} ACTIVE")
        if spec.volume_gb:
            volume = self.parts["data-volume"].resource
            if volume.get("status") != "in-use":
                volume = self.p.wait_for("volumes", volume["id"], "available")
                self.p.server_action(server_id, "attach_volume", volume=volume["id"])
            self.refresh("data-volume", self.c.get_volume(volume["id"]))
            self.progress(0.75, f"volume {volume['id']} attached")
        if spec.floating_ip:
            external = self.p.external_network(spec.floating_network)
            port = self.p.server_port(server_id)
            fip = self.neutron("floating_ips", "floating-ip", lambda description: self.c.create_floating_ip(
                external["id"], port_id=port["id"], description=description))
            if fip.get("port_id") != port["id"]:
                fip = self.c.update_floating_ip(fip["id"], port_id=port["id"])
            self.refresh("floating-ip", self.c.get_floating_ip(fip["id"]))
            self.progress(0.9, f"floating IP {fip.get('floating_ip_address')} associated")
        if spec.volume_gb or spec.floating_ip:
            self.refresh("server", self.c.get_server(server_id))  # its addresses and volumes as they are now

    def network(self, spec: NetworkSpec) -> None:
        network = self.neutron("networks", "network",
                               lambda description: self.c.create_network(spec.name, description=description))
        self.progress(0.3, f"network {network['id']}")
        subnet = self.neutron("subnets", "subnet", lambda description: self.c.create_subnet(
            network["id"], cidr=spec.cidr, name=f"{spec.name}-subnet", description=description))
        self.progress(0.6, f"subnet {subnet['id']}")
        if spec.router:
            external = self.p.external_network(spec.external_network)
            router = self.neutron("routers", "router", lambda description: self.c.create_router(
                f"{spec.name}-router", external_network_id=external["id"], description=description))
            interfaces = self.t.get_json("network", "/ports", {"device_id": router["id"],
                                                               "network_id": network["id"]})["ports"]
            if not interfaces:
                self.c.add_interface_to_router(router["id"], subnet_id=subnet["id"])
            self.refresh("router", self.c.get_router(router["id"]))
            self.progress(0.9, f"router {router['id']} joined to the external network")
        self.refresh("network", self.c.get_network(network["id"]))

    def security_group(self, spec: SecurityGroupSpec) -> None:
        group = self.neutron("security_groups", "security-group", lambda description: self.c.create_security_group(
            spec.name, description=description))
        self.progress(0.3, f"security group {group['id']}")
        existing = {_rule_key(rule) for rule in self.c.get_security_group(group["id"]).get("security_group_rules", [])}
        for rule in spec.rules:
            key = (rule.direction, rule.ethertype, rule.protocol, rule.port_min, rule.port_max, rule.remote_ip_prefix)
            if key in existing:
                continue  # added by an earlier attempt
            self.c.create_security_group_rule(
                group["id"], direction=rule.direction, ethertype=rule.ethertype, protocol=rule.protocol,
                port_range_min=rule.port_min, port_range_max=rule.port_max, remote_ip_prefix=rule.remote_ip_prefix)
        self.refresh("security-group", self.c.get_security_group(group["id"]))
        self.progress(0.9, f"{len(spec.rules)} rules")

    def floating_ip(self, spec: FloatingIpSpec) -> None:
        external = self.p.external_network(spec.floating_network)
        fip = self.neutron("floating_ips", "floating-ip", lambda description: self.c.create_floating_ip(
            external["id"], description=description))
        self.progress(0.9, f"floating IP {fip.get('floating_ip_address')}")


def _kinds_of(spec: Spec | None) -> set[str]:
    """The connector kinds a spec may create (every kind a request may create, without one)."""
    if isinstance(spec, ServerSpec):
        return {"servers", "volumes", "floating_ips"}
    if isinstance(spec, VolumeSpec):
        return {"volumes"}
    if isinstance(spec, NetworkSpec):
        return {"networks", "subnets", "routers"}
    if isinstance(spec, SecurityGroupSpec):
        return {"security_groups"}
    if isinstance(spec, FloatingIpSpec):
        return {"floating_ips"}
    return {"servers", "volumes", *_NEUTRON_PARTS}


def _rule_key(rule: Resource) -> tuple[Any, ...]:
    return (rule.get("direction"), rule.get("ethertype"), rule.get("protocol"), rule.get("port_range_min"),
            rule.get("port_range_max"), rule.get("remote_ip_prefix"))


def _description(ref: str, part: str) -> str:
    return f"{REQUEST_LABEL}={ref} {PART_LABEL}={part}"


def _neutron_plural(kind: str) -> str:
    return "floatingips" if kind == "floating_ips" else kind


def _flavor_name(server: Resource) -> str:
    flavor = server.get("flavor") or {}
    return str(flavor.get("original_name") or flavor.get("id") or "")


def _check_ref(ref: str) -> None:
    if not _REF.match(ref):
        raise ValueError(f"ref: {ref!r} must be 1-40 letters, digits, '_', '.', ':' or '-'")


PROVISIONER = OpenStackProvisioner
