from __future__ import annotations

import django_filters

from .models import Violation


class ViolationFilterSet(django_filters.FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__slug")
    cloud = django_filters.CharFilter(field_name="region__cloud__slug")
    region = django_filters.CharFilter(field_name="region__slug")
    rule = django_filters.CharFilter(field_name="rule", lookup_expr="startswith")
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = Violation
        fields = ["tenant", "cloud", "region", "severity", "rule", "open"]
