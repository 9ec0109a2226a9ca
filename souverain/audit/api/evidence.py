"""``GET /api/evidence/?tenant=&region=&on=&lang=``: an evidence pack (a signed ZIP, see audit/evidence.py).

Who: operators and auditors for any tenant or region; tenant admins and auditors bound to a tenant only for
their tenant's subtree (their own tenant when none is given; a region narrows their pack to their resources
in it, and must be one they may see: not another tenant's private cloud). A tenant they may not see is
answered exactly as an unknown one (400, ``tenant``), so the answer does not reveal which slugs exist.
``on`` defaults to today (a pack of a past date is the same bytes whenever it is asked for, while the data
stays). Without a scope, operators and unbound auditors get the list of what they may ask for (JSON), not a
pack of the whole estate by accident.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souverain.estate.models import Region
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import CLOUD_PART_ACCESS, Access, membership_of, scope_queryset

from .. import evidence

EVIDENCE_ACCESS = Access(read=frozenset(evidence.READERS), tenant_lookup="pk")


def _date(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({"on": [f"'{value}' is not a date (YYYY-MM-DD)"]}) from exc


def scope_of(request: Request) -> tuple[Tenant | None, Region | None]:
    """The tenant and region of the pack asked for, as the user may see them; 400 naming the parameter."""
    params = request.query_params
    membership = membership_of(request.user)
    scoped = membership is not None and membership.is_tenant_scoped
    tenant = None
    slug = params.get("tenant")
    if slug:
        tenant = scope_queryset(Tenant.objects.all(), request.user, EVIDENCE_ACCESS).filter(slug=slug).first()
        if tenant is None:
            raise ValidationError({"tenant": [f"unknown tenant '{slug}'"]})
    elif scoped:
        tenant = membership.tenant
    region = None
    key = params.get("region")
    if key:
        cloud_slug, _, region_slug = key.partition("/")
        region = (scope_queryset(Region.objects.select_related("cloud"), request.user, CLOUD_PART_ACCESS)
                  .filter(cloud__slug=cloud_slug, slug=region_slug).first())
        if region is None:
            raise ValidationError({"region": [f"unknown region '{key}' (cloud/region)"]})
    return tenant, region


def _packable_tenants(request: Request):  # noqa: ANN202 - a QuerySet of Tenant
    """The tenants this user may ask a pack for: all for operators and unbound auditors, else their subtree."""
    from souverain.tenancy.services import subtree_ids

    membership = membership_of(request.user)
    if membership is not None and membership.is_tenant_scoped:
        return Tenant.objects.filter(pk__in=subtree_ids(membership.tenant_id))
    return Tenant.objects.all()


class EvidencePackView(APIView):
    """An evidence pack for a tenant (and its subtree) or a region on a date, in French or English: a ZIP of
    evidence.json, report.pdf, manifest.json and signature.json (``souverain evidence verify`` checks it)."""

    access = EVIDENCE_ACCESS

    @extend_schema(parameters=[
        OpenApiParameter("tenant", str, description="Tenant slug (tenant users: theirs by default)"),
        OpenApiParameter("region", str, description="Region as cloud/region"),
        OpenApiParameter("on", str, required=True, description="The pack's date, YYYY-MM-DD"),
        OpenApiParameter("lang", str, enum=list(evidence.LANGUAGES), description="The report's language (fr)"),
    ], responses={(200, "application/zip"): OpenApiTypes.BINARY, (200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request: Request) -> HttpResponse | Response:
        on = _date(request.query_params.get("on"))
        language = request.query_params.get("lang") or "fr"
        if language not in evidence.LANGUAGES:
            raise ValidationError({"lang": [f"'{language}' is not one of {', '.join(evidence.LANGUAGES)}"]})
        tenant, region = scope_of(request)
        if tenant is None and region is None:
            return Response({
                "detail": "give ?tenant=SLUG or ?region=CLOUD/REGION, ?on=YYYY-MM-DD and ?lang=fr|en",
                "tenants": list(_packable_tenants(request).order_by("slug").values_list("slug", flat=True)),
            })
        pack = evidence.build_pack(tenant=tenant, region=region, on=on, language=language)
        name = tenant.slug if tenant is not None else f"{region.cloud.slug}-{region.slug}"
        response = HttpResponse(pack, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="evidence-{name}-{on.isoformat()}-{language}.zip"'
        return response
