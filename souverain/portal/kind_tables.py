"""One inventory table per resource kind, with the columns that kind needs — as Horizon's panels do (servers:
status, flavor, addresses, project, region, classes, compliance; volumes: size, type, attached to; …).

The inventory keeps each object's API JSON whole (``Resource.attrs``); a kind's columns read it. What stays fast on
100 000 rows is what the all-kinds page does (``tables.KeysPaginator``: the page's keys, then those rows): the
kind-specific cells read ``attrs`` of the page's 50 rows only, and what they name by id — the project of a server,
the server a volume is attached to, a snapshot's volume, open violations — is looked up once per page
(``PageLookups``), never per row. Columns from ``attrs`` do not sort: no index can serve them; the indexed columns
(name, status, region, last seen) do.

A kind without its own columns gets the common ones; adding a kind's columns is one entry in ``KIND_COLUMNS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import django_tables2 as tables
from django.db.models import Count, QuerySet
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from souverain.inventory.kinds import BY_NAME, KindInfo
from souverain.inventory.models import Resource
from souverain.policy.models import Violation

from .tables import TEMPLATE, ResourceTable, _cells, _when

SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


@dataclass
class PageLookups:
    """What the page's rows name by id, read in one query per kind of reference."""

    projects: dict[tuple[int, str], str] = field(default_factory=dict)  # (cloud pk, project id) → name
    objects: dict[tuple[int, str, str], Resource] = field(default_factory=dict)  # (region pk, kind, id) → resource
    violations: dict[int, tuple[int, str]] = field(default_factory=dict)  # resource pk → (open count, worst)

    @classmethod
    def for_rows(cls, rows: list[Resource], references: Iterable[tuple[str, Callable[[dict[str, Any]], list[str]]]],
                 *, compliance: bool) -> PageLookups:
        lookups = cls()
        if not rows:
            return lookups
        project_ids = {(r.cloud_id, r.project_id) for r in rows if r.project_id}
        if project_ids:
            for cloud_id, external_id, name in Resource.objects.filter(
                    kind="project", cloud_id__in={c for c, _ in project_ids},
                    external_id__in={p for _, p in project_ids}).values_list("cloud_id", "external_id", "name"):
                lookups.projects[(cloud_id, external_id)] = name
        for kind, ids_of in references:
            wanted = {i for r in rows for i in ids_of(r.attrs or {})}
            if wanted:
                found = Resource.objects.filter(kind=kind, region_id__in={r.region_id for r in rows},
                                                external_id__in=wanted).only("pk", "name", "external_id", "region_id")
                for obj in found:
                    lookups.objects[(obj.region_id, kind, obj.external_id)] = obj
        if compliance:
            counts: dict[int, dict[str, int]] = {}
            for resource_id, severity, n in (Violation.objects.filter(resource_id__in=[r.pk for r in rows],
                                                                      resolved_at__isnull=True)
                                             .values_list("resource_id", "severity").annotate(n=Count("pk"))
                                             .order_by()):
                counts.setdefault(resource_id, {})[severity] = n
            for resource_id, by_severity in counts.items():
                worst = min(by_severity, key=lambda s: SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else 9)
                lookups.violations[resource_id] = (sum(by_severity.values()), worst)
        return lookups

    def link(self, record: Resource, kind: str, external_id: str) -> SafeString | str:
        obj = self.objects.get((record.region_id, kind, external_id))
        if obj is None:
            return external_id[:13]
        return format_html('<a href="{}">{}</a>', reverse("portal:resource", args=[obj.pk]),
                           obj.name or obj.external_id)


# --- reading a kind's JSON ----------------------------------------------------------------------------------------

def _flavor(attrs: dict[str, Any]) -> str:
    flavor = attrs.get("flavor") or {}
    if not isinstance(flavor, dict):
        return str(flavor)
    return str(flavor.get("original_name") or flavor.get("name") or flavor.get("id") or "")


def _addresses(attrs: dict[str, Any]) -> SafeString | str:
    networks = attrs.get("addresses") or {}
    if not isinstance(networks, dict):
        return ""
    return format_html_join(
        "", '<span class="addr"><small>{}</small> {}</span>',
        ((network, ", ".join(str(a.get("addr")) for a in entries if isinstance(a, dict)))
         for network, entries in sorted(networks.items()) if isinstance(entries, list)))


def _attached_servers(attrs: dict[str, Any]) -> list[str]:
    return [str(a["server_id"]) for a in attrs.get("attachments") or [] if isinstance(a, dict) and a.get("server_id")]


def _labels(info: KindInfo, record: Resource) -> dict[str, str]:
    """The resource's ``souverain:*`` labels: tags (``souverain:classes=health``) and, where its kind keeps them,
    metadata or properties — both, as compliance reads them."""
    labels = {}
    for tag in record.tags or []:
        key, _sep, value = str(tag).partition("=")
        if key.startswith("souverain:"):
            labels[key] = value
    if info.labels_at is not None:
        attrs = record.attrs or {}
        place = attrs.get(info.labels_at) if info.labels_at else attrs
        if isinstance(place, dict):
            labels.update({str(k): str(v) for k, v in place.items() if str(k).startswith("souverain:")})
    return labels


def _size_gib(value: Any) -> str:
    return f"{value} GiB" if value not in (None, "") else ""


@dataclass(frozen=True)
class KindColumn:
    name: str
    header: Any
    render: Callable[[Resource, PageLookups], Any]


def _attr(key: str) -> Callable[[Resource, PageLookups], Any]:
    return lambda record, _lookups: (record.attrs or {}).get(key, "")


KIND_COLUMNS: dict[str, list[KindColumn]] = {
    "server": [
        KindColumn("flavor", _("Flavor"), lambda r, _l: _flavor(r.attrs or {})),
        KindColumn("addresses", _("Addresses"), lambda r, _l: _addresses(r.attrs or {})),
        KindColumn("zone", _("Availability zone"), _attr("OS-EXT-AZ:availability_zone")),
    ],
    "volume": [
        KindColumn("size", _("Size"), lambda r, _l: _size_gib((r.attrs or {}).get("size"))),
        KindColumn("volume_type", _("Type"), _attr("volume_type")),
        KindColumn("attached_to", _("Attached to"), lambda r, lookups: format_html_join(
            ", ", "{}", ((lookups.link(r, "server", s),) for s in _attached_servers(r.attrs or {})))),
        KindColumn("bootable", _("Bootable"), lambda r, _l: _("yes") if str((r.attrs or {}).get("bootable")).lower()
                   == "true" else _("no")),
    ],
    "snapshot": [
        KindColumn("size", _("Size"), lambda r, _l: _size_gib((r.attrs or {}).get("size"))),
        KindColumn("volume", _("Volume"), lambda r, lookups: lookups.link(r, "volume",
                                                                        str((r.attrs or {}).get("volume_id") or ""))
                   if (r.attrs or {}).get("volume_id") else ""),
    ],
    "image": [
        KindColumn("disk_format", _("Format"), _attr("disk_format")),
        KindColumn("size", _("Size"), lambda r, _l: filesizeformat((r.attrs or {}).get("size") or 0)
                   if (r.attrs or {}).get("size") else ""),
        KindColumn("visibility", _("Visibility"), _attr("visibility")),
        KindColumn("min_disk", _("Minimum disk"), lambda r, _l: _size_gib((r.attrs or {}).get("min_disk"))),
    ],
    "network": [
        KindColumn("subnets", _("Subnets"), lambda r, lookups: format_html_join(
            ", ", "{}", ((lookups.link(r, "subnet", str(s)),) for s in (r.attrs or {}).get("subnets") or []))),
        KindColumn("shared", _("Shared"), lambda r, _l: _("yes") if (r.attrs or {}).get("shared") else _("no")),
        KindColumn("external", _("External"), lambda r, _l: _("yes") if (r.attrs or {}).get("router:external")
                   else _("no")),
        KindColumn("network_type", _("Network type"), _attr("provider:network_type")),
    ],
    "subnet": [
        KindColumn("cidr", _("CIDR"), _attr("cidr")),
        KindColumn("gateway_ip", _("Gateway"), _attr("gateway_ip")),
        KindColumn("network", _("Network"), lambda r, lookups: lookups.link(
            r, "network", str((r.attrs or {}).get("network_id") or "")) if (r.attrs or {}).get("network_id") else ""),
    ],
    "port": [
        KindColumn("fixed_ips", _("Fixed IPs"), lambda r, _l: ", ".join(
            str(ip.get("ip_address")) for ip in (r.attrs or {}).get("fixed_ips") or [] if isinstance(ip, dict))),
        KindColumn("device_owner", _("Device owner"), _attr("device_owner")),
        KindColumn("mac_address", _("MAC address"), _attr("mac_address")),
    ],
    "floating_ip": [
        KindColumn("fixed_ip_address", _("Fixed IP"), _attr("fixed_ip_address")),
        KindColumn("port", _("Port"), lambda r, lookups: lookups.link(r, "port", str((r.attrs or {}).get("port_id")))
                   if (r.attrs or {}).get("port_id") else ""),
    ],
    "router": [
        KindColumn("gateway", _("External network"), lambda r, lookups: lookups.link(
            r, "network", str(((r.attrs or {}).get("external_gateway_info") or {}).get("network_id") or ""))
            if ((r.attrs or {}).get("external_gateway_info") or {}).get("network_id") else ""),
    ],
    "security_group": [
        KindColumn("rules", _("Rules"), lambda r, _l: len((r.attrs or {}).get("security_group_rules") or [])),
        KindColumn("description", _("Description"), _attr("description")),
    ],
    "flavor": [
        KindColumn("vcpus", _("vCPUs"), _attr("vcpus")),
        KindColumn("ram", _("RAM"), lambda r, _l: f"{(r.attrs or {}).get('ram')} MiB"
                   if (r.attrs or {}).get("ram") is not None else ""),
        KindColumn("disk", _("Disk"), lambda r, _l: _size_gib((r.attrs or {}).get("disk"))),
    ],
    "container": [
        KindColumn("objects", _("Objects"), _attr("count")),
        KindColumn("bytes", _("Size"), lambda r, _l: filesizeformat((r.attrs or {}).get("bytes") or 0)),
    ],
}
# What each kind's columns name by id, looked up once per page.
KIND_REFERENCES: dict[str, list[tuple[str, Callable[[dict[str, Any]], list[str]]]]] = {
    "volume": [("server", _attached_servers)],
    "snapshot": [("volume", lambda a: [str(a["volume_id"])] if a.get("volume_id") else [])],
    "network": [("subnet", lambda a: [str(s) for s in a.get("subnets") or []])],
    "subnet": [("network", lambda a: [str(a["network_id"])] if a.get("network_id") else [])],
    "floating_ip": [("port", lambda a: [str(a["port_id"])] if a.get("port_id") else [])],
    "router": [("network", lambda a: [str(n)] if (n := (a.get("external_gateway_info") or {}).get("network_id"))
                else [])],
}


class KindTable(ResourceTable):
    """The all-kinds table's columns (less kind and tags) plus the kind's own; built per kind by ``kind_table``."""

    info: KindInfo
    lookups: PageLookups

    project = tables.Column(verbose_name=_("Project"), accessor="project_id", orderable=False, default="—",
                            attrs=_cells("project"))

    class Meta(ResourceTable.Meta):
        template_name = TEMPLATE
        attrs = {"class": "list resources by-kind stack"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["exclude"] = (*(kwargs.get("exclude") or ()), "kind", "tags")
        super().__init__(*args, **kwargs)
        self.lookups = PageLookups()

    def prepare_page(self, rows: list[Resource]) -> None:
        """Called by ``KeysPaginator`` with the page's rows: what they name by id, in a few queries."""
        self.lookups = PageLookups.for_rows(rows, KIND_REFERENCES.get(self.info.name, []),
                                            compliance=self.info.holds_data)

    def render_project(self, record: Resource) -> str:
        name = self.lookups.projects.get((record.cloud_id, record.project_id))
        return name or record.project_id[:13]

    def render_classes(self, record: Resource) -> str:
        classes = _labels(self.info, record).get("souverain:classes", "")
        labels = [c.strip() for c in classes.split(",") if c.strip()]
        if not labels:
            return format_html('<span class="muted">{}</span>', _("tenant's defaults"))
        return format_html_join(" ", '<span class="tag">{}</span>', ((c,) for c in labels))

    def render_compliance(self, record: Resource) -> str:
        found = self.lookups.violations.get(record.pk)
        if found is None:
            return format_html('<span class="ok-text">{}</span>', _("compliant"))
        count, worst = found
        label = Violation.Severity(worst).label if worst in Violation.Severity.values else worst
        return format_html('<a href="{}#compliance-title"><span class="sev sev-{}">{}</span> {}</a>',
                           reverse("portal:resource", args=[record.pk]), worst, label, count)

    def render_last_seen(self, value: Any) -> str:
        return _when(value)


def kind_table(info: KindInfo) -> type[KindTable]:
    """The table class of one kind: common columns around the kind's own, classes and compliance for kinds that
    hold data."""
    own = KIND_COLUMNS.get(info.name, [])
    attrs: dict[str, Any] = {"info": info}
    for column in own:
        attrs[column.name] = tables.Column(verbose_name=column.header, accessor="pk", orderable=False,
                                           attrs=_cells(column.name), empty_values=())
        attrs[f"render_{column.name}"] = (lambda c: lambda self, record: c.render(record, self.lookups))(column)
    data_columns = []
    if info.holds_data:
        attrs["classes"] = tables.Column(verbose_name=_("Classes"), accessor="pk", orderable=False,
                                         attrs=_cells("classes"), empty_values=())
        attrs["compliance"] = tables.Column(verbose_name=_("Compliance"), accessor="pk", orderable=False,
                                            attrs=_cells("compliance"), empty_values=())
        data_columns = ["classes", "compliance"]
    sequence = ["name", "status", *[c.name for c in own], "project", "region", "cloud", "tenant", *data_columns,
                "last_seen", "..."]
    attrs["Meta"] = type("Meta", (KindTable.Meta,), {"sequence": sequence})
    return type(f"{info.name.title().replace('_', '')}Table", (KindTable,), attrs)


def kind_queryset(queryset: QuerySet) -> QuerySet:
    """Rows as the kind tables read them: ``attrs`` loaded (the page's 50 rows only: see KeysPaginator)."""
    return queryset.select_related("cloud", "region", "tenant")


def kind_info(listing: str) -> KindInfo | None:
    return next((k for k in BY_NAME.values() if k.listing == listing), None)
