from __future__ import annotations

import django_filters

from .models import Job


class JobFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Job.Status.choices)
    kind = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created", lookup_expr="gte")
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug (jobs about its objects)")

    class Meta:
        model = Job
        fields = ["status", "kind", "created_after", "tenant"]
