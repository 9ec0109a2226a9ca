"""django-tables2 tables of the portal: ordering by column, pagination, and nothing that queries per row."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from souverain.inventory.models import Resource

TEMPLATE = "portal/includes/table.html"


class ResourceTable(tables.Table):
    name = tables.Column(verbose_name=_("Name"), linkify=False, order_by=("name", "id"))
    kind = tables.Column(verbose_name=_("Kind"))
    cloud = tables.Column(verbose_name=_("Cloud"), accessor="cloud__slug", order_by=("cloud__slug", "name"))
    region = tables.Column(verbose_name=_("Region"), accessor="region__slug", order_by=("region__slug", "name"))
    tenant = tables.Column(verbose_name=_("Tenant"), accessor="tenant__name", order_by=("tenant__name", "name"),
                           default="—")
    status = tables.Column(verbose_name=_("Status"), default="—")
    tags = tables.Column(verbose_name=_("Tags"), orderable=False, default="")
    last_seen = tables.DateTimeColumn(verbose_name=_("Last seen"), format="Y-m-d H:i")

    class Meta:
        model = Resource
        template_name = TEMPLATE
        fields = ["name", "kind", "cloud", "region", "tenant", "status", "tags", "last_seen"]
        attrs = {"class": "list resources"}
        empty_text = _("No resource matches these filters.")
        per_page = 50

    def __init__(self, *args: Any, show_tenant: bool = True, **kwargs: Any) -> None:
        exclude = kwargs.pop("exclude", ()) or ()
        if not show_tenant:
            exclude = (*exclude, "tenant")
        super().__init__(*args, exclude=exclude, **kwargs)

    def render_name(self, record: Resource) -> str:
        label = record.name or record.external_id
        url = reverse("portal:resource", args=[record.pk])
        gone = format_html(' <span class="tag">{}</span>', _("vanished")) if record.gone_at else ""
        return format_html('<a href="{}">{}</a>{}', url, label, gone)

    def render_kind(self, record: Resource) -> str:
        return record.get_kind_display()

    def render_region(self, record: Resource) -> str:
        return format_html('<a href="{}">{}</a>', reverse("portal:region", args=[record.region_id]),
                           record.region.slug)

    def render_tags(self, value: list[str]) -> str:
        return format_html_join(" ", '<span class="tag">{}</span>', ((t,) for t in value or []))
