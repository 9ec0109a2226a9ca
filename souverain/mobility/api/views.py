"""The what-if API: ``POST /api/whatif/`` answers a change file or an alternative estate against the live estate
(writing nothing); ``/api/saved-workloads/`` keeps the workloads whose placement a what-if checks."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, TENANT_ROLES
from souverain.estate.api.views import parse_date_param
from souverain.estate.estatefile import EstateFileError
from souverain.tenancy.permissions import Access, TenantScopedQuerysetMixin

from .. import report, services
from ..changes import ChangeFileError
from ..models import SavedWorkload
from .serializers import SavedWorkloadSerializer

#: Every role may ask (a what-if only reads); a tenant user's answer holds only their tenant's resources.
WHATIF_ACCESS = Access(read=ALL_ROLES, write=ALL_ROLES)
SAVED_WORKLOAD_ACCESS = Access(read=ALL_ROLES, write=OPERATOR_ROLES | TENANT_ROLES, tenant_lookup="tenant")
MAX_TEXT = 1024 * 1024


def question_from_body(body: Any) -> services.Question:
    """The question of a request body: ``changes`` (JSON), ``change`` (a change file's YAML text) or ``estate``
    (an alternative estate file's YAML text); exactly one. ValidationError naming the field otherwise."""
    if not isinstance(body, dict):
        raise ValidationError({"non_field_errors": [_("The body must be a JSON object.")]})
    given = [key for key in ("changes", "change", "estate") if body.get(key) not in (None, "")]
    if len(given) != 1:
        raise ValidationError({"changes": [_("Give exactly one of: changes (JSON), change (YAML text), estate "
                                             "(YAML text).")]})
    [key] = given
    on = parse_date_param(body["on"]) if body.get("on") else None
    value = body[key]
    if key != "changes" and (not isinstance(value, str) or len(value) > MAX_TEXT):
        raise ValidationError({key: [_("The file's text, at most 1 MiB.")]})
    try:
        if key == "changes":
            document = value if isinstance(value, dict) else {"changes": value}
            return services.change_question_from_data(document, on)
        if key == "change":
            return services.change_question(value, "change", on)
        return services.estate_question(value, "estate", on)
    except (ChangeFileError, EstateFileError) as exc:
        raise ValidationError({key: [str(problem) for problem in exc.problems]}) from exc


class WhatIfView(APIView):
    """What if the estate changed? Exposure, compliance and placement before and after, without writing."""

    access = WHATIF_ACCESS

    @extend_schema(
        request=inline_serializer("WhatIfRequest", {
            "changes": drf_serializers.JSONField(required=False, help_text="A change document (docs/what-if.md)"),
            "change": drf_serializers.CharField(required=False, help_text="A change file's YAML text"),
            "estate": drf_serializers.CharField(required=False, help_text="An alternative estate file's YAML text"),
            "on": drf_serializers.DateField(required=False, help_text="Date of the question (default: today)"),
            "fit_tenant": drf_serializers.CharField(
                required=False, help_text="A tenant's slug: would its servers fit in each region (capacity)?"),
            "format": drf_serializers.ChoiceField(["json", "markdown"], required=False,
                                                  help_text="markdown: the answer plus a readable report"),
        }),
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        question = question_from_body(request.data)
        fmt = request.data.get("format") or "json"
        if fmt not in ("json", "markdown"):
            raise ValidationError({"format": [_("json or markdown.")]})
        fit_tenant = None
        if request.data.get("fit_tenant") not in (None, ""):
            if not isinstance(request.data["fit_tenant"], str):
                raise ValidationError({"fit_tenant": [_("A tenant's slug.")]})
            try:
                fit_tenant = services.fit_tenant_of(request.data["fit_tenant"], request.user)
            except services.FitError as exc:
                raise ValidationError({"fit_tenant": [str(exc)]}) from exc
        result = services.answer(question, user=request.user, fit_tenant=fit_tenant)
        if fmt == "markdown":
            language = (get_language() or "en").split("-")[0]
            result = {**result, "report": report.markdown(result, language)}
        return Response(result)


class SavedWorkloadViewSet(TenantScopedQuerysetMixin, viewsets.ModelViewSet):
    """Workloads kept from the placement simulator; a what-if reports the regions each would lose or gain."""

    access = SAVED_WORKLOAD_ACCESS
    queryset = SavedWorkload.objects.select_related("tenant", "created_by")
    serializer_class = SavedWorkloadSerializer

    def perform_create(self, serializer: SavedWorkloadSerializer) -> None:
        serializer.save(created_by=self.request.user if self.request.user.is_authenticated else None)
