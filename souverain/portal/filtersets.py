"""The portal's filter forms. Filtering itself is the inventory's (``inventory.filtersets``): the portal only gives
the same parameters select boxes and labels, so a filtered page, the API and the CSV export agree."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from souverain.estate.models import Cloud, Region
from souverain.inventory.filtersets import ResourceFilterSet
from souverain.inventory.kinds import KINDS
from souverain.policy.filtersets import ViolationFilterSet
from souverain.policy.models import Violation
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import membership_of

from .templatetags.portal import kind_label

PRESENCE = [("present", _("Present")), ("gone", _("Vanished")), ("all", _("All"))]


def _rebuild_fields(filters: dict[str, Any]) -> None:
    """A filter builds its form field once and caches it, and the copies a FilterSet makes of its class's filters
    carry that cache along: drop it so the widgets, labels and choices set here are used."""
    for item in filters.values():
        item.__dict__.pop("_field", None)


class PortalResourceFilterSet(ResourceFilterSet):
    """Single-choice select boxes over the inventory's multi-value filters; ``tenant`` only for users who see
    more than one tenant."""

    LABELS = {
        "q": _("Search"), "cloud": _("Cloud"), "region": _("Region"), "tenant": _("Tenant"), "kind": _("Kind"),
        "status": _("Status"), "tag": _("Tag"), "presence": _("Presence"),
    }
    FIELDS = ["q", "cloud", "region", "tenant", "kind", "status", "tag", "presence"]

    def __init__(self, data: Any = None, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        every = [("", _("All"))]
        choices = {
            "cloud": every + list(Cloud.objects.order_by("name").values_list("slug", "name")),
            "region": every + [(f"{c}/{r}", f"{c}/{r}") for c, r in
                               Region.objects.order_by("cloud__slug", "slug").values_list("cloud__slug", "slug")],
            "kind": every + [(k.name, kind_label(k.label)) for k in KINDS],
        }
        self.filters["presence"].extra.update(choices=PRESENCE, empty_label=None)
        membership = membership_of(user)
        if membership is not None and membership.tenant_id:
            del self.filters["tenant"]
        else:
            choices["tenant"] = every + list(Tenant.objects.order_by("name").values_list("slug", "name"))
        self.filters = {name: self.filters[name] for name in self.FIELDS if name in self.filters}
        for name, options in choices.items():
            if name in self.filters:
                self.filters[name].extra["widget"] = forms.Select(choices=options)
        for name, label in self.LABELS.items():
            if name in self.filters:
                self.filters[name].label = label
        self.filters["q"].extra["widget"] = forms.TextInput(attrs={
            "type": "search", "placeholder": _("name or id")})
        _rebuild_fields(self.filters)

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)
        # As in the API: vanished resources only when asked for.
        if not (self.data or {}).get("presence"):
            queryset = queryset.filter(gone_at__isnull=True)
        return queryset


class PortalViolationFilterSet(ViolationFilterSet):
    """The compliance API's violation filters, with select boxes; ``tenant`` only for users who see several."""

    FIELDS = ["severity", "cloud", "tenant", "rule"]

    def __init__(self, data: Any = None, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        self.filters = {name: self.filters[name] for name in self.FIELDS if name in self.filters}
        every = [("", _("All"))]
        self.filters["severity"].extra.update(choices=Violation.Severity.choices, empty_label=_("All"))
        self.filters["cloud"].extra["widget"] = forms.Select(
            choices=every + list(Cloud.objects.order_by("name").values_list("slug", "name")))
        membership = membership_of(user)
        if membership is not None and membership.tenant_id:
            del self.filters["tenant"]
        else:
            self.filters["tenant"].extra["widget"] = forms.Select(
                choices=every + list(Tenant.objects.order_by("name").values_list("slug", "name")))
        self.filters["rule"].extra["widget"] = forms.TextInput(attrs={"type": "search", "placeholder": "hds."})
        labels = {"severity": _("Severity"), "cloud": _("Cloud"), "tenant": _("Tenant"), "rule": _("Rule")}
        for name, label in labels.items():
            if name in self.filters:
                self.filters[name].label = label
        _rebuild_fields(self.filters)
