from __future__ import annotations

from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, Role
from souverain.estate.api.views import parse_date_param
from souverain.inventory.api.pagination import CappedCountPagination
from souverain.tenancy.permissions import Access, TenantScopedQuerysetMixin, tenant_of

from .. import services
from ..filtersets import ViolationFilterSet
from ..models import CompliancePass, OperatorPolicy, Violation
from ..tasks import queue
from ..workloads import WorkloadError
from . import serializers

POLICY_ACCESS = Access(read=ALL_ROLES, write=frozenset({Role.OPERATOR_ADMIN}))


class PlacementView(APIView):
    """Where may a workload go? Allowed regions ranked, denied regions with every reason (docs/policies.md)."""

    # Placement only reads: every role may ask, tenant users for their own tenant only.
    access = Access(read=ALL_ROLES, write=ALL_ROLES)

    @extend_schema(
        request=inline_serializer("PlacementRequest", {
            "workload": drf_serializers.DictField(help_text="The workload descriptor (docs/policies.md)"),
            "on": drf_serializers.DateField(required=False, help_text="Decision date (default: today)"),
        }),
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError({"non_field_errors": [_("The body must be a JSON object.")]})
        # The body is {"workload": {...}, "on": ...}, or the workload itself (older clients).
        workload = body.get("workload", body)
        if not isinstance(workload, dict):
            raise ValidationError({"workload": [_("A workload is a JSON object (see docs/policies.md).")]})
        workload = dict(workload)
        on = parse_date_param(body.get("on") or request.query_params.get("on"))
        tenant = tenant_of(request.user)
        if tenant is not None:
            if workload.get("tenant") not in (None, tenant.slug):
                raise PermissionDenied("You can only place workloads of your own tenant.")
            workload["tenant"] = tenant.slug
        try:
            return Response(services.place(workload, on))
        except WorkloadError as exc:
            raise ValidationError({"workload": exc.problems}) from exc


class OperatorPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    access = POLICY_ACCESS
    action_access = {"upload": POLICY_ACCESS, "deactivate": POLICY_ACCESS}
    queryset = OperatorPolicy.objects.select_related("active_version")
    serializer_class = serializers.OperatorPolicySerializer
    lookup_field = "name"

    @extend_schema(request=serializers.PolicyUploadSerializer, responses={
        201: serializers.PolicyVersionSerializer, 422: serializers.PolicyVersionSerializer,
        400: serializers.PolicyRefusalSerializer})
    @action(detail=False, methods=["post"])
    def upload(self, request: Request, format: str | None = None) -> Response:
        """Upload a module version: compiled and tested first; a broken one is stored as rejected, never active.

        An invalid name or a module over a limit (size, nesting, operators: docs/policies.md) is refused with 400
        and nothing is stored."""
        payload = serializers.PolicyUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            result = services.upload_policy(data["name"], data["source"], data["tests"], request.user,
                                            data["description"])
        except services.PolicyRefused as refused:
            return Response(serializers.refusal_body(refused.errors), status=status.HTTP_400_BAD_REQUEST)
        body = serializers.PolicyVersionSerializer(result.version).data
        return Response(body, status=status.HTTP_201_CREATED if result.activated else 422)

    @action(detail=True, methods=["get"])
    def versions(self, request: Request, name: str | None = None, format: str | None = None) -> Response:
        policy = self.get_object()
        return Response(serializers.PolicyVersionSerializer(policy.versions.all(), many=True).data)

    @action(detail=True, methods=["get"])
    def activations(self, request: Request, name: str | None = None, format: str | None = None) -> Response:
        policy = self.get_object()
        return Response(serializers.PolicyActivationSerializer(policy.activations.all(), many=True).data)

    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, name: str | None = None, format: str | None = None) -> Response:
        services.deactivate_policy(self.get_object(), request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BuiltinPacksView(APIView):
    access = Access(read=ALL_ROLES)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        from ..engine import builtin_modules, load_packs_config

        config = load_packs_config()
        modules = {m.name: m.source for m in builtin_modules(tests=True)}
        packs = []
        for name, pack in config.get("packs", {}).items():
            packs.append({"name": name, "title": pack.get("title"), "source": pack.get("source"),
                          "applies_when": pack.get("applies_when"), "rego": modules.get(f"{name}.rego", ""),
                          "tests": modules.get(f"{name}_test.rego", "")})
        return Response({"packs": packs})


VIOLATION_ACCESS = Access(read=ALL_ROLES, tenant_lookup="tenant")


class ViolationViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Violations found by compliance passes; tenant users see their tenant's only. ``?open=true`` for open ones."""

    access = VIOLATION_ACCESS
    queryset = Violation.objects.select_related("tenant", "region__cloud", "resource", "denial")
    serializer_class = serializers.ViolationSerializer
    filterset_class = ViolationFilterSet
    search_fields = ["rule", "denial__message", "resource__name"]
    # A million resources carry as many violations: the total is counted up to a cap, and cursors page.
    pagination_class = CappedCountPagination
    ordering_fields = ["severity", "last_seen", "first_seen", "rule"]

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"])
    def summary(self, request: Request, format: str | None = None) -> Response:
        queryset = self.filter_queryset(self.get_queryset()).filter(resolved_at__isnull=True)
        return Response({
            "open": queryset.count(),
            "by_severity": {r["severity"]: r["n"] for r in queryset.values("severity").annotate(n=Count("pk"))},
            "by_rule": {r["rule"]: r["n"] for r in queryset.values("rule").annotate(n=Count("pk"))},
            "by_tenant": {r["tenant__slug"] or "": r["n"]
                          for r in queryset.values("tenant__slug").annotate(n=Count("pk"))},
        })


class CompliancePassViewSet(viewsets.ReadOnlyModelViewSet):
    access = Access(read=OPERATOR_ROLES | {Role.AUDITOR}, write=OPERATOR_ROLES)
    queryset = CompliancePass.objects.all()
    serializer_class = serializers.CompliancePassSerializer

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def run(self, request: Request, format: str | None = None) -> Response:
        """Queue a full compliance pass now (it also runs after syncs, policy and estate changes, and daily)."""
        job = queue("manual")
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)
