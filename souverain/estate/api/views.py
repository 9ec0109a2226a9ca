from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from souverain.tenancy.permissions import (
    CLOUD_ACCESS,
    CLOUD_PART_ACCESS,
    ESTATE_ACCESS,
    TenantScopedQuerysetMixin,
)

from ..filtersets import (
    CertificationFilterSet,
    CloudFilterSet,
    DatacenterFilterSet,
    LegalEntityFilterSet,
    RegionFilterSet,
)
from ..models import Certification, Cloud, Datacenter, LegalEntity, Region
from ..services import exposure_for_region
from . import serializers


class EstateViewSet(TenantScopedQuerysetMixin, viewsets.ModelViewSet):
    access = ESTATE_ACCESS


class LegalEntityViewSet(EstateViewSet):
    queryset = LegalEntity.objects.select_related("parent").prefetch_related("shareholdings__holder")
    serializer_class = serializers.LegalEntitySerializer
    filterset_class = LegalEntityFilterSet
    search_fields = ["slug", "name"]
    lookup_field = "slug"


class DatacenterViewSet(EstateViewSet):
    queryset = Datacenter.objects.select_related("operator")
    serializer_class = serializers.DatacenterSerializer
    filterset_class = DatacenterFilterSet
    search_fields = ["slug", "name", "city"]
    lookup_field = "slug"


class CloudViewSet(EstateViewSet):
    access = CLOUD_ACCESS  # a private cloud exists only for the tenants it is dedicated to
    queryset = Cloud.objects.select_related("operator", "stack_vendor").prefetch_related(
        "hardware_vendors", "regions", "dedicated_to")
    serializer_class = serializers.CloudSerializer
    filterset_class = CloudFilterSet
    search_fields = ["slug", "name"]
    lookup_field = "slug"


class RegionViewSet(EstateViewSet):
    access = CLOUD_PART_ACCESS
    queryset = Region.objects.select_related("cloud").prefetch_related(
        "datacenters", "backup_datacenters", "availability_zones"
    )
    serializer_class = serializers.RegionSerializer
    filterset_class = RegionFilterSet
    search_fields = ["slug", "name", "cloud__slug"]

    @extend_schema(
        parameters=[OpenApiParameter("on", OpenApiTypes.DATE, description="Decision date (default: today)")],
        responses={200: OpenApiTypes.OBJECT},
        description="Foreign laws that can reach the region's data, per channel, with explanation chains, the "
        "SecNumCloud §19.6 ownership test and the certifications valid on the date.",
    )
    @action(detail=True, methods=["get"])
    def exposure(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        region = self.get_object()
        on = parse_date_param(request.query_params.get("on"))
        return Response(exposure_for_region(region, on))


class CertificationViewSet(EstateViewSet):
    access = CLOUD_PART_ACCESS
    queryset = Certification.objects.select_related("cloud", "region")
    serializer_class = serializers.CertificationSerializer
    filterset_class = CertificationFilterSet


def parse_date_param(value: object) -> dt.date:
    """A decision date from a query parameter or a JSON body: YYYY-MM-DD, today when absent; else 400."""
    if value is None or value == "":
        return dt.date.today()
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"on": [_("'%(value)s' is not a date (YYYY-MM-DD).") % {"value": value}]}) from exc
