from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import QuerySet

from .models import CapacityFigure, CapacitySnapshot


def _utc(value: dt.datetime) -> dt.datetime | None:
    # ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59 (a 500): compare in UTC.
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        return None


class CapacitySnapshotFilterSet(django_filters.FilterSet):
    cloud = django_filters.CharFilter(field_name="region__cloud__slug", help_text="Cloud slug")
    region_slug = django_filters.CharFilter(field_name="region__slug", help_text="Region slug (its catalog name)")

    class Meta:
        model = CapacitySnapshot
        fields = ["cloud", "region", "region_slug", "status"]


class CapacityFigureFilterSet(django_filters.FilterSet):
    cloud = django_filters.CharFilter(field_name="region__cloud__slug", help_text="Cloud slug")
    region_slug = django_filters.CharFilter(field_name="region__slug", help_text="Region slug (its catalog name)")
    zone = django_filters.CharFilter(help_text="Availability zone (region totals: /capacity/regions/)")
    resource_class = django_filters.ChoiceFilter(choices=[(c, c) for c in ("VCPU", "MEMORY_MB", "DISK_GB")])
    since = django_filters.IsoDateTimeFilter(method="filter_since", help_text="Taken at or after (ISO 8601)")
    until = django_filters.IsoDateTimeFilter(method="filter_until", help_text="Taken at or before (ISO 8601)")

    class Meta:
        model = CapacityFigure
        fields = ["cloud", "region", "region_slug", "zone", "resource_class", "since", "until"]

    def filter_since(self, queryset: QuerySet, name: str, value: dt.datetime) -> QuerySet:
        utc = _utc(value)
        if utc is None:  # beyond year 1 or 9999 once in UTC
            return queryset if value.year < 5000 else queryset.none()
        return queryset.filter(taken_at__gte=utc)

    def filter_until(self, queryset: QuerySet, name: str, value: dt.datetime) -> QuerySet:
        utc = _utc(value)
        if utc is None:
            return queryset.none() if value.year < 5000 else queryset
        return queryset.filter(taken_at__lte=utc)
