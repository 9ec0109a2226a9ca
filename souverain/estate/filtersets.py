from __future__ import annotations

import django_filters

from .models import Certification, Cloud, Datacenter, LegalEntity, Region


class LegalEntityFilterSet(django_filters.FilterSet):
    class Meta:
        model = LegalEntity
        fields = ["country", "kind", "dpf_certified"]


class DatacenterFilterSet(django_filters.FilterSet):
    operator = django_filters.CharFilter(field_name="operator__slug")

    class Meta:
        model = Datacenter
        fields = ["country", "operator", "tier"]


class CloudFilterSet(django_filters.FilterSet):
    operator = django_filters.CharFilter(field_name="operator__slug")

    class Meta:
        model = Cloud
        fields = ["kind", "operator", "vendor_access", "key_custody"]


class RegionFilterSet(django_filters.FilterSet):
    cloud = django_filters.CharFilter(field_name="cloud__slug")

    class Meta:
        model = Region
        fields = ["cloud", "slug"]


class CertificationFilterSet(django_filters.FilterSet):
    cloud = django_filters.CharFilter(field_name="cloud__slug")

    class Meta:
        model = Certification
        fields = ["cloud", "region", "scheme"]
