"""Requests, approvals, quotas and approval rules over the API; every decision is in ``services``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from souverain.core.roles import ALL_ROLES, OPERATOR_ROLES, TENANT_ROLES, Role
from souverain.estate.models import Cloud
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import Access, TenantScopedQuerysetMixin, membership_of, scope_queryset

from .. import approvals, quotas, services
from ..filtersets import ApprovalFilterSet, QuotaFilterSet, ServiceRequestFilterSet
from ..models import QUOTA_FIELDS, Approval, ApprovalPolicy, Quota, ServiceRequest
from . import serializers

#: Everyone reads what their scope holds; tenant users and operators ask (operators on a tenant's behalf).
REQUEST_ACCESS = Access(read=ALL_ROLES, write=TENANT_ROLES | OPERATOR_ROLES, tenant_lookup="tenant")
#: Approvals are read by everyone in scope and decided by whom each level names (checked per object).
APPROVAL_ACCESS = Access(read=ALL_ROLES, write=TENANT_ROLES | OPERATOR_ROLES, tenant_lookup="request__tenant")
#: Quotas: operators set any node's, a tenant-admin its node's descendants' (checked per node).
QUOTA_ACCESS = Access(read=ALL_ROLES, write=OPERATOR_ROLES | {Role.TENANT_ADMIN}, tenant_lookup="tenant")
RULES_ACCESS = Access(read=OPERATOR_ROLES | {Role.AUDITOR}, write=frozenset({Role.OPERATOR_ADMIN}))


def _errors(exc: services.RequestInvalid | quotas.QuotaRefused) -> ValidationError:
    return ValidationError(exc.errors)


class HiddenBeforeMethodMixin:
    """A detail route answers 404 for an object out of the user's scope whatever the method, before 405: a POST-only
    action read with GET must not tell that another tenant's object exists."""

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if kwargs.get(getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")):
            self.get_object()  # type: ignore[attr-defined]
        return super().http_method_not_allowed(request, *args, **kwargs)  # type: ignore[misc]


def _allowed_tenants(user: Any) -> QuerySet | None:
    """The tenants a scoped user acts for (their node and its descendants); None for operators."""
    membership = membership_of(user)
    if membership is None or not membership.is_tenant_scoped:
        return None
    return Tenant.objects.filter(pk__in=quotas.subtree_ids(membership.tenant))


class ServiceRequestViewSet(HiddenBeforeMethodMixin, TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """Requests for servers, volumes, networks, security groups and floating IPs (docs/provisioning.md).

    POST creates one through the gate: 201 when recorded (approved, or awaiting approval), 422 when the gate
    refused it (the request, status ``refused``, with placement's reasons or the quota numbers in ``refusal``),
    400 for bad input. With an ``Idempotency-Key`` header, the same key from the same user answers 200 with the
    request already made instead of making a second one."""

    access = REQUEST_ACCESS
    action_access = {"cancel": REQUEST_ACCESS}
    queryset = ServiceRequest.objects.select_related("tenant", "region__cloud", "job")
    filterset_class = ServiceRequestFilterSet
    search_fields = ["name"]
    ordering_fields = ["created", "status", "kind", "name"]

    def get_serializer_class(self) -> type:
        if self.action == "retrieve":
            return serializers.ServiceRequestDetailSerializer
        if self.action == "create":
            return serializers.ServiceRequestCreateSerializer
        return serializers.ServiceRequestSerializer

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events", "approvals__approver_tenant", "approvals__request__tenant")
        return queryset

    def _detail(self, obj: ServiceRequest, code: int) -> Response:
        obj = ServiceRequest.objects.select_related("tenant", "region__cloud").get(pk=obj.pk)
        data = serializers.ServiceRequestDetailSerializer(obj, context=self.get_serializer_context()).data
        return Response(data, status=code)

    @extend_schema(request=serializers.ServiceRequestCreateSerializer,
                   parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
                   responses={201: serializers.ServiceRequestDetailSerializer,
                              200: serializers.ServiceRequestDetailSerializer,
                              422: serializers.ServiceRequestDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = serializers.ServiceRequestCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        allowed = _allowed_tenants(request.user)
        slug = data.get("tenant")
        if allowed is None:
            if not slug:
                raise ValidationError({"tenant": [_("An operator names the tenant the request is for.")]})
            tenant = Tenant.objects.filter(slug=slug).first()
        else:
            own = membership_of(request.user).tenant
            tenant = own if not slug else allowed.filter(slug=slug).first()
        if tenant is None:
            raise ValidationError({"tenant": [_("Unknown tenant “%(slug)s”.") % {"slug": slug}]})
        try:
            made, created = services.submit(
                tenant=tenant, user=request.user, kind=data["kind"], name=data["name"], spec=data["spec"],
                region=data.get("region") or None, auto=data.get("auto", False),
                data_classes=data.get("data_classes"), requirements=data.get("requirements"),
                idempotency_key=request.headers.get("Idempotency-Key", ""))
        except services.RequestInvalid as exc:
            raise _errors(exc) from exc
        if not created:
            return self._detail(made, status.HTTP_200_OK)
        code = status.HTTP_422_UNPROCESSABLE_ENTITY if made.status == ServiceRequest.Status.REFUSED \
            else status.HTTP_201_CREATED
        return self._detail(made, code)

    @extend_schema(request=serializers.CancelSerializer, responses={200: serializers.ServiceRequestDetailSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """Cancel a request not yet running: its requester, a tenant-admin of its node or above, an operator."""
        obj = self.get_object()
        payload = serializers.CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            obj = services.cancel(obj.pk, request.user, payload.validated_data["reason"])
        except services.NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.WrongState as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return self._detail(obj, status.HTTP_200_OK)


class ApprovalViewSet(HiddenBeforeMethodMixin, TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    """The approvals of the requests in your scope (your node's and those below it: a parent's admin sees its
    children's). ``?mine=true``: the inbox, the levels you may decide now (``actionable``); approve / reject
    with a comment."""

    access = APPROVAL_ACCESS
    action_access = {"approve": APPROVAL_ACCESS, "reject": APPROVAL_ACCESS}
    queryset = Approval.objects.select_related("request__tenant", "approver_tenant").order_by("-request_id", "level")
    serializer_class = serializers.ApprovalSerializer
    filterset_class = ApprovalFilterSet
    ordering_fields = ["level", "decided_at"]

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if str(self.request.query_params.get("mine", "")).lower() in ("1", "true", "yes"):
            membership = membership_of(self.request.user)
            queryset = queryset.filter(status=Approval.Status.PENDING).exclude(request__requester=self.request.user)
            if membership is not None and membership.role in OPERATOR_ROLES:
                queryset = queryset.filter(approver__role=approvals.OPERATOR)
            elif membership is not None and membership.tenant_id:
                queryset = queryset.filter(approver_tenant_id=membership.tenant_id, approver__role=membership.role)
            else:
                queryset = queryset.none()
        return queryset

    def _decide(self, request: Request, pk: str | None, approve: bool) -> Response:
        approval = self.get_object()
        payload = serializers.DecisionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            services.decide(approval.pk, request.user, approve=approve, comment=payload.validated_data["comment"])
        except services.NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except services.WrongState as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        approval.refresh_from_db()
        return Response(self.get_serializer(approval).data)

    @extend_schema(request=serializers.DecisionSerializer, responses={200: serializers.ApprovalSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        return self._decide(request, pk, True)

    @extend_schema(request=serializers.DecisionSerializer, responses={200: serializers.ApprovalSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None, format: str | None = None) -> Response:
        """Reject: the request ends, nothing is created."""
        return self._decide(request, pk, False)


class QuotaViewSet(HiddenBeforeMethodMixin, TenantScopedQuerysetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                   mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Souverain quotas per tenant node (overall, or on one cloud) with the subtree's usage. POST sets a node's
    limits for a scope (creating or replacing them); a child's are carved out of its parent's (400 with the
    numbers otherwise). ``/api/quotas/report/``: only what is over its limit."""

    access = QUOTA_ACCESS
    action_access = {"report": QUOTA_ACCESS}
    queryset = Quota.objects.select_related("tenant", "cloud")
    serializer_class = serializers.QuotaSerializer
    filterset_class = QuotaFilterSet

    def _check_node(self, tenant: Tenant) -> None:
        if not quotas.may_set(membership_of(self.request.user), tenant):
            raise PermissionDenied(_("Quotas of this node are set by the level above it."))

    def _save(self, data: dict[str, Any], tenant: Tenant, cloud: Cloud | None) -> Quota:
        self._check_node(tenant)
        try:
            return quotas.set_quota(tenant, cloud, data)
        except quotas.QuotaRefused as exc:
            raise _errors(exc) from exc

    def _cloud(self, slug: str | None) -> Cloud | None:
        if not slug:
            return None
        cloud = scope_queryset(Cloud.objects.filter(slug=slug), self.request.user,
                               Access(dedicated_lookup="dedicated_to")).first()
        if cloud is None:
            raise ValidationError({"cloud_slug": [_("Unknown cloud “%(slug)s”.") % {"slug": slug}]})
        return cloud

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        slug = data.pop("tenant")["slug"]
        allowed = _allowed_tenants(request.user)
        tenant = (allowed if allowed is not None else Tenant.objects.all()).filter(slug=slug).first()
        if tenant is None:
            raise ValidationError({"tenant": [_("Unknown tenant.")]})
        quota = self._save(data, tenant, self._cloud(data.pop("cloud_slug", None)))
        return Response(self.get_serializer(quota).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        quota = self.get_object()
        payload = self.get_serializer(quota, data=request.data, partial=kwargs.get("partial", False))
        payload.is_valid(raise_exception=True)
        given = payload.validated_data
        if given.get("tenant", {}).get("slug", quota.tenant.slug) != quota.tenant.slug or \
                given.get("cloud_slug", quota.cloud.slug if quota.cloud_id else None) != (
                    quota.cloud.slug if quota.cloud_id else None):
            raise ValidationError({"tenant": [_("A quota's node and cloud do not change: set the other one's.")]})
        data = {**quota.limits(), **{k: v for k, v in given.items() if k in QUOTA_FIELDS}}
        quota = self._save(data, quota.tenant, quota.cloud)
        return Response(self.get_serializer(quota).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        quota = self.get_object()
        self._check_node(quota.tenant)
        quota.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: inline_serializer("QuotaReport", {
        "count": drf_serializers.IntegerField(), "results": serializers.QuotaSerializer(many=True)})})
    @action(detail=False, methods=["get"])
    def report(self, request: Request, format: str | None = None) -> Response:
        """The quotas whose usage exceeds a limit - resources created outside Souverain included."""
        rows = quotas.report(self.filter_queryset(self.get_queryset()))
        data = serializers.QuotaSerializer([r["quota"] for r in rows if r["over"]], many=True,
                                           context=self.get_serializer_context()).data
        return Response({"count": len(data), "results": data})


class ApprovalPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """The approval rules' versions (YAML); POST a new source to replace the active one (operator-admins)."""

    access = RULES_ACCESS
    queryset = ApprovalPolicy.objects.all()
    serializer_class = serializers.ApprovalPolicySerializer
    lookup_field = "number"

    @extend_schema(request=serializers.ApprovalPolicyUploadSerializer,
                   responses={201: serializers.ApprovalPolicySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = serializers.ApprovalPolicyUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            policy = approvals.upload(payload.validated_data["source"], request.user.get_username())
        except approvals.RulesInvalid as exc:
            raise ValidationError({"source": [
                _("line %(line)s, column %(column)s: %(message)s") % {
                    "line": p.line, "column": p.column, "message": f"{p.field + ': ' if p.field else ''}{p.message}"}
                for p in exc.problems]}) from exc
        return Response(self.get_serializer(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: serializers.ApprovalPolicySerializer,
                              404: OpenApiResponse(description="No approval rules are active.")})
    @action(detail=False, methods=["get"])
    def active(self, request: Request, format: str | None = None) -> Response:
        policy = ApprovalPolicy.objects.filter(active=True).order_by("-number").first()
        if policy is None:
            raise NotFound(_("No approval rules: no request needs approval."))
        return Response(self.get_serializer(policy).data)
