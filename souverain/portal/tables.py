"""django-tables2 tables of the portal: ordering by column, pagination, and nothing that queries per row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_tables2 as tables
from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import dateformat
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django_tables2.rows import BoundRows

from souverain.inventory.models import Resource
from souverain.policy.models import Violation

from .templatetags.portal import kind_label

TEMPLATE = "portal/includes/table.html"


COUNT_CAP = 10_000


class KeysPaginator(Paginator):
    """Pages of a large table in two queries: the page's primary keys first (the sort then carries narrow rows,
    and an index can serve it), then the full rows of those keys only. One page of 100 000 resources costs two
    cheap queries instead of sorting 100 000 wide rows.

    The total is counted up to ``COUNT_CAP`` rows ("10 000+" beyond, and pages stop there): an exact count of a
    large filtered set costs a scan of it at every page view, while nobody pages past the 200th page — they
    narrow the filters, or export."""

    capped = False

    @cached_property
    def count(self) -> int:
        queryset: QuerySet = self.object_list.data.data
        found = queryset.order_by()[: COUNT_CAP + 1].count()
        self.capped = found > COUNT_CAP
        return min(found, COUNT_CAP)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows: BoundRows = self.object_list
        queryset: QuerySet = rows.data.data
        keys = list(queryset.values_list("pk", flat=True)[bottom:bottom + self.per_page])
        records = {record.pk: record for record in queryset.filter(pk__in=keys)}
        ordered = [records[key] for key in keys if key in records]
        # A table that names other objects by id looks them up once for the page (kind_tables.PageLookups).
        prepare = getattr(rows.table, "prepare_page", None)
        if prepare is not None:
            prepare(ordered)
        return self._get_page(BoundRows(ordered, rows.table), number, self)


def _when(value: datetime) -> str:
    """A time as the tables show it (a DateTimeColumn compiles a template per cell: too slow for big pages)."""
    return dateformat.format(localtime(value), "Y-m-d H:i")


def _cells(name: str) -> dict[str, dict[str, str]]:
    """A class on the column's cells, for CSS and for tests that read a column."""
    return {"td": {"class": name}, "th": {"class": name}}


class ResourceTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=False, order_by=("name", "id"), attrs=_cells("name"))
    kind = tables.Column(verbose_name=_("Kind"), attrs=_cells("kind"))
    cloud = tables.Column(verbose_name=_("Cloud"), accessor="cloud__slug", order_by=("cloud__slug", "name"),
                          attrs=_cells("cloud"))
    region = tables.Column(verbose_name=_("Region"), accessor="region__slug", order_by=("region__slug", "name"),
                           attrs=_cells("region"))
    tenant = tables.Column(verbose_name=_("Tenant"), accessor="tenant__name", order_by=("tenant__name", "name"),
                           default="—", attrs=_cells("tenant"))
    status = tables.Column(verbose_name=_("Status"), default="—", attrs=_cells("status"))
    tags = tables.Column(verbose_name=_("Tags"), orderable=False, default="", attrs=_cells("tags"))
    last_seen = tables.Column(verbose_name=_("Last seen"), attrs=_cells("last_seen"))

    class Meta:
        model = Resource
        template_name = TEMPLATE
        fields = ["name", "kind", "cloud", "region", "tenant", "status", "tags", "last_seen"]
        attrs = {"class": "list resources stack"}
        empty_text = _("No resource matches these filters.")
        per_page = 50

    def __init__(self, *args: Any, show_tenant: bool = True, **kwargs: Any) -> None:
        exclude = kwargs.pop("exclude", ()) or ()
        if not show_tenant:
            exclude = (*exclude, "tenant")
        super().__init__(*args, exclude=exclude, **kwargs)

    def order_name(self, queryset: QuerySet, is_descending: bool) -> tuple[QuerySet, bool]:
        # Natural order (web-2 before web-10) through the stored key name_sort, which has an index (inventory
        # migration 0006): the first page needs no sort at all — unless the view chose an unindexed form of the
        # same key for a selective filter (see views/inventory.py); keep the view's choice.
        current = queryset.query.order_by[0] if queryset.query.order_by else "name_sort"
        key = F(current.lstrip("-")) if isinstance(current, str) else current
        return queryset.order_by(key.desc() if is_descending else key.asc(), "-id" if is_descending else "id"), True

    def render_name(self, record: Resource) -> str:
        label = record.name or record.external_id
        url = reverse("portal:resource", args=[record.pk])
        gone = format_html(' <span class="tag">{}</span>', _("vanished")) if record.gone_at else ""
        return format_html('<a href="{}">{}</a>{}', url, label, gone)

    def render_last_seen(self, value: datetime) -> str:
        return _when(value)

    def render_kind(self, record: Resource) -> str:
        return kind_label(record.get_kind_display())

    def render_region(self, record: Resource) -> str:
        return format_html('<a href="{}">{}</a>', reverse("portal:region", args=[record.region_id]),
                           record.region.slug)

    def render_tags(self, value: list[str]) -> str:
        return format_html_join(" ", '<span class="tag">{}</span>', ((t,) for t in value or []))


class ViolationTable(tables.Table):
    severity = tables.Column(verbose_name=_("Severity"), attrs=_cells("severity"))
    rule = tables.Column(verbose_name=_("Rule"), attrs=_cells("rule"))
    resource = tables.Column(verbose_name=_("Resource"), accessor="resource__name", order_by=("resource__name",),
                             attrs=_cells("resource"))
    tenant = tables.Column(verbose_name=_("Tenant"), accessor="tenant__name", default="—", attrs=_cells("tenant"))
    region = tables.Column(verbose_name=_("Region"), accessor="region__slug",
                           order_by=("region__cloud__slug", "region__slug"), attrs=_cells("region"))
    message = tables.Column(verbose_name=_("Why"), orderable=False, attrs=_cells("message"))
    first_seen = tables.Column(verbose_name=_("Since"), attrs=_cells("first_seen"))

    class Meta:
        model = Violation
        template_name = TEMPLATE
        fields = ["severity", "rule", "resource", "tenant", "region", "message", "first_seen"]
        attrs = {"class": "list violations stack"}
        empty_text = _("No open violation matches these filters.")
        order_by = ("severity", "-first_seen")

    def __init__(self, *args: Any, show_tenant: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, exclude=() if show_tenant else ("tenant",), **kwargs)

    def render_severity(self, record: Violation) -> str:
        return format_html('<span class="sev sev-{}">{}</span>', record.severity, record.get_severity_display())

    def render_rule(self, value: str) -> str:
        parts = value.split(".")
        rule = ".".join(parts[:2]) if parts[0] == "custom" else parts[0]
        return format_html('<a href="{}"><code>{}</code></a>', reverse("portal:rule", args=[rule]), value)

    def render_resource(self, record: Violation) -> str:
        return format_html('<a href="{}">{}</a>', reverse("portal:resource", args=[record.resource_id]),
                           record.resource.name or record.resource.external_id)

    def render_region(self, record: Violation) -> str:
        return format_html('<a href="{}">{}/{}</a>', reverse("portal:region", args=[record.region_id]),
                           record.region.cloud.slug, record.region.slug)

    def render_first_seen(self, value: datetime) -> str:
        return _when(value)

    def render_message(self, value: str) -> str:
        if len(value) <= 140:
            return value
        return format_html('<span title="{}">{}…</span>', value, value[:139])
