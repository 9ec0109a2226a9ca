"""Creating things on a cloud from plain specs: idempotent, resumable, rolled back on failure.

Provider-neutral: the specs below say *what* to create (a server with its volume and floating IP, a volume,
a network with its subnet and router, a security group with rules, a floating IP) with names or ids the
provider resolves; each provider that can create implements ``Provisioner`` in its own package
(``souverain.connectors.<provider>.provisioning``, a module exposing ``PROVISIONER``, the class). A
connector whose provider has none answers ``NotSupported`` from ``Connector.provisioner()``.

The reference. Every object created for a request carries ``souverain:request=<ref>`` (Nova and Cinder
metadata, Neutron tags) and the part it plays (``souverain:part=server``, ``=data-volume``...), so that
``adopt(ref)`` finds, from the cloud's own listings, what an earlier attempt created - also when the
worker that sent the POST died before it could record the answer (kill -9). ``create`` first adopts,
then creates only the parts that are missing: running it twice yields one object per part. The ref must
be unique across everything that provisions on that cloud (e.g. the installation's id with the request's).

The classes. ``labels`` (``{"souverain:classes": "health,personal"}``) go on every object too, where
continuous compliance reads them (``policy.workloads``).

Failure. When a part fails (the API refuses, or the object goes to ERROR), every object carrying the ref
is deleted, dependants first, and ``ProvisioningFailed`` says what failed and what was rolled back (and
what could not be, if anything resisted). Objects that existed before (the network a server joins, the
external network) carry no ref and are never touched.
"""

from __future__ import annotations

import abc
import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ConnectorError, NotSupported

if TYPE_CHECKING:
    from .base import Connector, Resource

REQUEST_LABEL = "souverain:request"
PART_LABEL = "souverain:part"
CLASSES_LABEL = "souverain:classes"
MANAGED_LABEL = "souverain:managed"

#: ``on_progress(fraction, message)``: fraction in [0, 1], message in English for logs and the job row.
Progress = Callable[[float, str], None]


def _no_progress(fraction: float, message: str) -> None:
    pass


# --- specs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """A server on an existing network; ``flavor``, ``image``, ``network``, security groups: names or ids."""

    name: str
    flavor: str
    image: str
    network: str
    security_groups: tuple[str, ...] = ()
    key_name: str | None = None
    #: Boot from a new volume of this size (GB) made from the image, deleted with the server.
    boot_volume_gb: int | None = None
    #: A new empty volume of this size (GB), attached to the server.
    volume_gb: int | None = None
    floating_ip: bool = False
    #: The external network the floating IP comes from (name or id); the cloud's only one when not given.
    floating_network: str | None = None
    kind: str = field(default="server", init=False)


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    size_gb: int
    volume_type: str | None = None
    kind: str = field(default="volume", init=False)


@dataclass(frozen=True)
class NetworkSpec:
    """A network, its subnet and, unless ``router`` is False, a router from it to the external network."""

    name: str
    cidr: str
    router: bool = True
    external_network: str | None = None
    kind: str = field(default="network", init=False)


@dataclass(frozen=True)
class RuleSpec:
    direction: str = "ingress"
    protocol: str | None = None
    port_min: int | None = None
    port_max: int | None = None
    remote_ip_prefix: str | None = None
    ethertype: str = "IPv4"


@dataclass(frozen=True)
class SecurityGroupSpec:
    name: str
    description: str = ""
    rules: tuple[RuleSpec, ...] = ()
    kind: str = field(default="security_group", init=False)


@dataclass(frozen=True)
class FloatingIpSpec:
    floating_network: str | None = None
    description: str = ""
    kind: str = field(default="floating_ip", init=False)


Spec = ServerSpec | VolumeSpec | NetworkSpec | SecurityGroupSpec | FloatingIpSpec
SPEC_KINDS: dict[str, type[Any]] = {"server": ServerSpec, "volume": VolumeSpec, "network": NetworkSpec,
                                    "security_group": SecurityGroupSpec, "floating_ip": FloatingIpSpec}


def spec_from_dict(kind: str, data: Mapping[str, Any]) -> Spec:
    """The spec of ``kind`` from JSON (a request's ``spec``); ValueError naming the field when it is wrong."""
    if kind not in SPEC_KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {', '.join(SPEC_KINDS)}")
    cls = SPEC_KINDS[kind]
    fields = {name: f for name, f in cls.__dataclass_fields__.items() if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown field for a {kind} (fields: {', '.join(fields)})")
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "rules":
            if not isinstance(value, list):
                raise ValueError("rules: a list of rules is expected")
            try:
                values[name] = tuple(RuleSpec(**rule) for rule in value)
            except TypeError as exc:
                raise ValueError(f"rules: {exc}") from None
        elif name == "security_groups":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("security_groups: a list of names or ids is expected")
            values[name] = tuple(value)
        else:
            values[name] = value
    try:
        spec: Spec = cls(**values)
    except TypeError as exc:
        named = re.findall(r"'(\w+)'", str(exc))
        missing = named[0] if named else "spec"
        raise ValueError(f"{missing}: this field is required for a {kind}") from None
    for name in ("size_gb", "boot_volume_gb", "volume_gb"):
        size = getattr(spec, name, None)
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise ValueError(f"{name}: a whole number of GB, at least 1")
    for name in ("name", "flavor", "image", "network", "cidr"):
        value = getattr(spec, name, "x")
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name}: required, a non-empty string")
    return spec


# --- results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One object of a provisioned whole: its connector kind (``"servers"``), part name, and the API's JSON."""

    kind: str
    part: str
    resource: dict[str, Any]
    #: Found on the cloud (an earlier attempt made it) rather than created by this call.
    adopted: bool = False

    @property
    def id(self) -> str:
        return str(self.resource["id"])


@dataclass(frozen=True)
class Provisioned:
    ref: str
    parts: tuple[Part, ...]

    def of(self, part: str) -> Part | None:
        return next((p for p in self.parts if p.part == part), None)


@dataclass(frozen=True)
class Shortfall:
    """A cloud quota the spec would exceed: ``asked`` more on top of ``used`` exceeds ``limit``."""

    resource: str
    asked: int
    used: int
    limit: int

    def __str__(self) -> str:
        return f"{self.resource}: asked {self.asked}, used {self.used}, limit {self.limit}"


class ProvisioningFailed(ConnectorError):
    """A part could not be created; what carried the ref was deleted (``rolled_back``), except ``left``."""

    def __init__(self, message: str, *, ref: str, rolled_back: list[tuple[str, str]],
                 left: list[tuple[str, str]] | None = None, cause: BaseException | None = None,
                 **where: Any) -> None:
        undone = ", ".join(f"{kind} {id}" for kind, id in rolled_back) or "nothing"
        text = f"{message}; rolled back: {undone}"
        if left:
            text += "; could not delete: " + ", ".join(f"{kind} {id}" for kind, id in left)
        super().__init__(text, **where)
        self.ref = ref
        self.reason = message
        self.rolled_back = rolled_back
        self.left = left or []
        self.cause = cause


# --- the interface -----------------------------------------------------------------------------------------

#: Day-2 actions on a server, as ``Provisioner.server_action``'s ``action``.
SERVER_ACTIONS = ("start", "stop", "reboot", "resize", "delete", "attach_volume", "detach_volume",
                  "associate_floating_ip", "disassociate_floating_ip")


class Provisioner(abc.ABC):
    """Composite creation and day-2 actions on one region of one cloud, through its connector."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector

    @abc.abstractmethod
    def for_project(self, project_id: str) -> Provisioner:
        """A provisioner acting in ``project_id`` with the same credentials (which need a role there)."""

    @abc.abstractmethod
    def adopt(self, ref: str, spec: Spec | None = None) -> list[Part]:
        """What exists on the cloud for ``ref`` (every object carrying the label), as parts; given ``spec``,
        only the kinds that spec creates are looked for."""

    @abc.abstractmethod
    def create(self, spec: Spec, ref: str, *, labels: Mapping[str, str] | None = None,
               on_progress: Progress = _no_progress, fresh: bool = False) -> Provisioned:
        """Create what ``spec`` describes (adopting what exists for ``ref``), wait until it is ready.

        ``fresh``: the caller knows nothing can exist for ``ref`` yet (a first attempt), so the listings that
        look for an earlier attempt's objects are skipped."""

    @abc.abstractmethod
    def rollback(self, ref: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Delete every object carrying ``ref``: (deleted, could not delete) as (kind, id) lists."""

    @abc.abstractmethod
    def quota_shortfalls(self, project_id: str, spec: Spec) -> list[Shortfall]:
        """The project's cloud quotas that creating ``spec`` would exceed (none: it fits)."""

    @abc.abstractmethod
    def server_action(self, server_id: str, action: str, *, on_progress: Progress = _no_progress,
                      **args: Any) -> Resource | None:
        """Run a day-2 ``action`` (``SERVER_ACTIONS``) and wait for its outcome; the server after it."""


def provisioner_for(connector: Connector) -> Provisioner:
    """The provider's ``Provisioner`` for this connector; NotSupported when the provider has none."""
    module_name = f"{__package__}.{connector.provider}.provisioning"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if not exc.name or not (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise  # a module the provider's provisioning itself imports is missing: not the same thing
        raise NotSupported(f"creating resources is not supported by the {connector.provider!r} provider",
                           cloud=connector.cloud, region=connector.region) from None
    provisioner: Provisioner = module.PROVISIONER(connector)
    return provisioner
