from __future__ import annotations

import django_filters

from .models import Approval, Quota, ServiceRequest


class ServiceRequestFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ServiceRequest.Status.choices)
    kind = django_filters.MultipleChoiceFilter(choices=ServiceRequest.Kind.choices)
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug")
    requester = django_filters.CharFilter(field_name="requester_name", help_text="Requester's username")

    class Meta:
        model = ServiceRequest
        fields = ["status", "kind", "tenant", "requester"]


class ApprovalFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Approval.Status.choices)
    request = django_filters.NumberFilter(field_name="request_id")

    class Meta:
        model = Approval
        fields = ["status", "request"]


class QuotaFilterSet(django_filters.FilterSet):
    tenant = django_filters.CharFilter(field_name="tenant__slug", help_text="Tenant slug")
    cloud = django_filters.CharFilter(field_name="cloud__slug", help_text="Cloud slug")

    class Meta:
        model = Quota
        fields = ["tenant", "cloud"]
