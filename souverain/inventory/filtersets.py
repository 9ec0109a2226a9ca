"""Filters of the inventory API.

Multi-valued filters take repeated parameters or commas (``?kind=server,volume`` or ``?kind=server&kind=volume``).
Clouds, regions and tenants are named by slug and resolved to ids first, so the big table is filtered on
its own indexed columns without joins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import django_filters
from django.db import connection
from django.db.models import BigIntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast

from souverain.estate.models import Cloud, Region
from souverain.tenancy.models import Tenant

from .kinds import BY_LISTING, BY_NAME
from .models import ProjectMapping, Resource, SyncState

MIN_CONTAINS = 3


def ids_match(field: str, ids: Iterable[int]) -> Q:
    """``field`` is one of ``ids``, each compared as a bigint.

    Django writes ``cloud_id IN (2)``; PostgreSQL reads the 2 as an integer, and the multi-column GIN index
    (migration 0005, ``btree_gin``) has no integer-to-bigint operator, so it would leave that condition out
    of the index scan and check it row by row: 100 ms instead of 20 on a million rows.
    """
    match = Q(pk__in=[])
    for value in ids:
        match |= Q(**{field: Cast(Value(int(value)), BigIntegerField())})
    return match


def _values(data: Any, name: str) -> list[str]:
    raw = data.getlist(name) if hasattr(data, "getlist") else [data.get(name, "")]
    return [v.strip() for value in raw for v in str(value).split(",") if v.strip()]


class MultiValueFilter(django_filters.CharFilter):
    """A CharFilter whose method is called with every value given, repeated or comma-separated."""

    def __init__(self, *, method: str, **kwargs: Any) -> None:
        super().__init__(method=self._every_value, **kwargs)
        self._target = method

    def _every_value(self, qs: QuerySet, name: str, value: Any) -> QuerySet:
        values = _values(self.parent.data, name)
        return getattr(self.parent, self._target)(qs, name, values) if values else qs


class ResourceFilterSet(django_filters.FilterSet):
    cloud = MultiValueFilter(method="filter_cloud", help_text="Cloud slug(s)")
    region = MultiValueFilter(method="filter_region", help_text="Region slug(s), or cloud/region")
    tenant = MultiValueFilter(method="filter_tenant", help_text="Tenant slug(s)")
    kind = MultiValueFilter(method="filter_kind", help_text="server, volume, network, port, quota...")
    status = MultiValueFilter(method="filter_status", help_text="The cloud's status (case does not matter)")
    tag = MultiValueFilter(method="filter_tag", help_text="Has all these tags")
    q = django_filters.CharFilter(method="filter_q", help_text="Name contains (starts with, under 3 characters), "
                                                                "or the cloud's id is")
    presence = django_filters.ChoiceFilter(
        method="filter_presence", choices=[("present", "present"), ("gone", "gone"), ("all", "all")],
        help_text="present (default for the list), gone, or all",
    )
    mapped = django_filters.BooleanFilter(field_name="tenant", lookup_expr="isnull", exclude=True,
                                          help_text="Whether its cloud project maps to a tenant")

    class Meta:
        model = Resource
        fields = ["cloud", "region", "tenant", "kind", "status", "tag", "q", "presence", "managed", "project_id",
                  "external_id", "mapped"]

    def filter_cloud(self, qs: QuerySet, name: str, values: list[str]) -> QuerySet:
        return qs.filter(ids_match("cloud_id", Cloud.objects.filter(slug__in=values).values_list("id", flat=True)))

    def filter_region(self, qs: QuerySet, name: str, values: list[str]) -> QuerySet:
        match = Q(pk__in=[])
        for value in values:
            cloud, _, region = value.rpartition("/")
            match |= Q(slug=region, cloud__slug=cloud) if cloud else Q(slug=region)
        return qs.filter(region_id__in=list(Region.objects.filter(match).values_list("id", flat=True)))

    def filter_tenant(self, qs: QuerySet, name: str, values: list[str]) -> QuerySet:
        return qs.filter(ids_match("tenant_id", Tenant.objects.filter(slug__in=values).values_list("id", flat=True)))

    def filter_kind(self, qs: QuerySet, name: str, values: list[str]) -> QuerySet:
        # Both the inventory's names and the connector's plurals are accepted (server, servers).
        kinds = set()
        for value in values:
            info = BY_NAME.get(value) or BY_LISTING.get(value)
            kinds.add(info.name if info else value)
        return qs.filter(kind__in=kinds)

    def filter_status(self, qs: QuerySet, name: str, values: list[str]) -> QuerySet:
        return qs.filter(status__in=[v.lower() for v in values])

    def filter_tag(self, qs: QuerySet, name: str, values: list[str]) -> QuerySet:
        for tag in values:
            if connection.vendor == "postgresql":
                qs = qs.filter(tags__contains=[tag])
            else:
                # SQLite has no JSON containment: match the quoted element in the JSON text instead.
                qs = qs.filter(tags__icontains=json.dumps(tag))
        return qs

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        # Indexed "contains" works on trigrams, so it needs three characters; shorter is a prefix search
        # (a b-tree range) rather than a scan of every name.
        by_name = Q(name__icontains=value) if len(value) >= MIN_CONTAINS else Q(name__istartswith=value)
        return qs.filter(by_name | Q(external_id=value))

    def filter_presence(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if value == "present":
            return qs.filter(gone_at__isnull=True)
        if value == "gone":
            return qs.filter(gone_at__isnull=False)
        return qs


class SyncStateFilterSet(django_filters.FilterSet):
    cloud = django_filters.CharFilter(field_name="cloud__slug")
    region = django_filters.CharFilter(field_name="region__slug")

    class Meta:
        model = SyncState
        fields = ["cloud", "region", "kind", "status"]


class ProjectMappingFilterSet(django_filters.FilterSet):
    cloud = django_filters.CharFilter(field_name="cloud__slug")
    tenant = django_filters.CharFilter(field_name="tenant__slug")

    class Meta:
        model = ProjectMapping
        fields = ["cloud", "tenant", "project_id"]
