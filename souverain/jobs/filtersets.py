from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import QuerySet

from .models import Job


class JobFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Job.Status.choices)
    kind = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created", method="filter_created_after")
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug (jobs about its objects)")

    class Meta:
        model = Job
        fields = ["status", "kind", "created_after", "tenant"]

    def filter_created_after(self, queryset: QuerySet, name: str, value: dt.datetime) -> QuerySet:
        # ISO 8601 allows offsets up to ±23:59, PostgreSQL only ±15:59 (a 500): compare in UTC.
        try:
            return queryset.filter(created__gte=value.astimezone(dt.UTC))
        except OverflowError:  # beyond year 1 or 9999 once in UTC: before or after every job
            return queryset if value.year < 5000 else queryset.none()
