"""Capacity pages: every visible region's allocatable / used / free vCPU, RAM and disk, and one region's zones and
history (a chart drawn here as inline SVG: no script, nothing from another host, allowed by the strict CSP).

Tenant users see the regions they may use: public clouds and their own private ones (``CLOUD_PART_ACCESS``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, ListView

from souverain.capacity.models import RESOURCE_CLASSES, CapacityFigure, CapacitySnapshot
from souverain.estate.models import Region
from souverain.tenancy.permissions import CLOUD_PART_ACCESS, PortalAccessMixin

from .base import RoleContextMixin

#: How each resource class is shown: its label and the divisor from Placement's unit to the shown one.
SHOWN = {
    "VCPU": (gettext_lazy("vCPU"), 1),
    "MEMORY_MB": (gettext_lazy("RAM (GiB)"), 1024),
    "DISK_GB": (gettext_lazy("Disk (GiB)"), 1),
}
HISTORY_DAYS = 30
MAX_HISTORY_DAYS = 366
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 160, 4


def rows(figures: Iterable[CapacityFigure]) -> list[dict[str, Any]]:
    """One row per resource class, in the shown unit, with the share used (0-100)."""
    by_class = {f.resource_class: f for f in figures}
    shown = []
    for rc in RESOURCE_CLASSES:
        figure = by_class.get(rc)
        if figure is None:
            continue
        label, divisor = SHOWN[rc]
        shown.append({
            "resource_class": rc, "label": label,
            "allocatable": figure.allocatable // divisor, "used": figure.used // divisor,
            "free": figure.free // divisor, "total": figure.total // divisor, "reserved": figure.reserved // divisor,
            "used_percent": round(100 * figure.used / figure.allocatable) if figure.allocatable else 0,
        })
    return shown


def chart(series: Sequence[tuple[dt.datetime, int, int]], divisor: int = 1) -> dict[str, Any] | None:
    """Polylines of used and allocatable over time, scaled to the chart's box; None with fewer than one point."""
    if not series:
        return None
    start, end = series[0][0], series[-1][0]
    span = max((end - start).total_seconds(), 1.0)
    top = max(max(allocatable for _, _, allocatable in series), max(used for _, used, _ in series), 1)
    inner_w, inner_h = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD

    def points(values: Iterable[tuple[dt.datetime, int]]) -> str:
        coordinates = []
        for when, value in values:
            x = CHART_PAD + (inner_w * (when - start).total_seconds() / span if len(series) > 1 else inner_w / 2)
            y = CHART_PAD + inner_h * (1 - value / top)
            coordinates.append(f"{x:.1f},{y:.1f}")
        return " ".join(coordinates)

    return {
        "width": CHART_WIDTH, "height": CHART_HEIGHT,
        "used": points((when, used) for when, used, _ in series),
        "allocatable": points((when, allocatable) for when, _, allocatable in series),
        "top": top // divisor, "start": start, "end": end, "points": len(series),
    }


def latest_figures(regions: Iterable[Region]) -> dict[int, CapacitySnapshot]:
    ids = [region.pk for region in regions]
    snapshots = CapacitySnapshot.latest().filter(region_id__in=ids).prefetch_related("figures")
    return {snapshot.region_id: snapshot for snapshot in snapshots}


class CapacityView(PortalAccessMixin, RoleContextMixin, ListView):
    """Every region the user may see, with its capacity as last measured."""

    access = CLOUD_PART_ACCESS
    queryset = Region.objects.select_related("cloud").order_by("cloud__name", "slug")
    template_name = "portal/capacity.html"
    context_object_name = "regions"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        regions = list(context["regions"])
        latest = latest_figures(regions)
        context["entries"] = [
            {"region": region, "snapshot": latest.get(region.pk),
             "rows": rows(f for f in latest[region.pk].figures.all() if not f.zone) if region.pk in latest else []}
            for region in regions
        ]
        return context


class CapacityRegionView(PortalAccessMixin, RoleContextMixin, DetailView):
    """One region: the region's and each zone's figures, the last measures, and the history chart."""

    access = CLOUD_PART_ACCESS  # another customer's private cloud: 404
    queryset = Region.objects.select_related("cloud")
    template_name = "portal/capacity_region.html"
    context_object_name = "region"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        region: Region = self.object
        days, days_error = history_days(self.request.GET)
        snapshot = latest_figures([region]).get(region.pk)
        figures = list(snapshot.figures.all()) if snapshot else []
        zones: dict[str, list[CapacityFigure]] = {}
        for figure in figures:
            if figure.zone:
                zones.setdefault(figure.zone, []).append(figure)
        since = timezone.now() - dt.timedelta(days=days)
        history = CapacityFigure.objects.filter(region=region, zone="", taken_at__gte=since).order_by("taken_at")
        series: dict[str, list[tuple[dt.datetime, int, int]]] = {}
        for figure in history.only("taken_at", "resource_class", "used", "allocatable"):
            series.setdefault(figure.resource_class, []).append((figure.taken_at, figure.used, figure.allocatable))
        context.update({
            "snapshot": snapshot,
            "rows": rows(f for f in figures if not f.zone),
            "zones": [{"name": name, "rows": rows(members)} for name, members in sorted(zones.items())],
            "charts": [{"label": SHOWN[rc][0], "chart": chart(series[rc], SHOWN[rc][1])}
                       for rc in RESOURCE_CLASSES if rc in series],
            "last_attempt": CapacitySnapshot.objects.filter(region=region).order_by("-taken_at", "-pk").first(),
            "days": days, "date_error": days_error,  # shown by the base template
        })
        return context


def history_days(query: Mapping[str, str]) -> tuple[int, str]:
    """The history window asked for (``?days=``), else the default, with a message when the value was refused."""
    raw = query.get("days", "")
    if not raw:
        return HISTORY_DAYS, ""
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_HISTORY_DAYS:
        return HISTORY_DAYS, _("days: a whole number from 1 to %(max)d; showing %(default)d.") % {
            "max": MAX_HISTORY_DAYS, "default": HISTORY_DAYS}
    return days, ""
