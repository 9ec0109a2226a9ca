"""``{% capacity_summary region %}``: a region's capacity as last measured, for the region page (which has already
checked that the user may see the region)."""

from __future__ import annotations

from typing import Any

from django import template

from souverain.estate.models import Region

from ..views.capacity import latest_figures, rows

register = template.Library()


@register.inclusion_tag("portal/includes/capacity_summary.html")
def capacity_summary(region: Region) -> dict[str, Any]:
    snapshot = latest_figures([region]).get(region.pk)
    return {"region": region, "snapshot": snapshot,
            "rows": rows(f for f in snapshot.figures.all() if not f.zone) if snapshot else []}
