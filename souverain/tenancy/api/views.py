from __future__ import annotations

import django_filters
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souverain.core import auth, throttle, tokens
from souverain.core.api import StillReferenced
from souverain.core.roles import ALL_ROLES, Role

from .. import services
from ..models import Membership, Tenant
from ..permissions import (
    OPERATOR_ONLY,
    TENANT_HEADER,
    Access,
    TenantScopedQuerysetMixin,
    membership_of,
    memberships_of,
)
from .serializers import (
    MembershipSerializer,
    MeSerializer,
    TenantMoveSerializer,
    TenantSerializer,
    TenantTreeSerializer,
)

TENANT_ROLES_WRITE = frozenset({Role.OPERATOR_ADMIN, Role.TENANT_ADMIN})


def _refuse_own_node(request: Request, tenant: Tenant) -> None:
    """Delegated administration: a tenant admin administers the nodes *below* theirs; their own node (its name,
    defaults, place in the tree) and everything above it stay with those above."""
    membership = membership_of(request.user)
    if membership is not None and membership.is_tenant_scoped and tenant.pk == membership.tenant_id:
        raise PermissionDenied(_("A tenant admin administers the tenants below theirs, not their own."))


class TenantViewSet(TenantScopedQuerysetMixin, viewsets.ModelViewSet):
    """Operators manage every tenant; a tenant admin creates and manages the tenants below theirs (their subtree);
    a tenant's users see their tenant and the tenants below it, never its parent or siblings."""

    access = Access(read=ALL_ROLES, write=TENANT_ROLES_WRITE, tenant_lookup="pk")
    queryset = Tenant.objects.select_related("parent")
    serializer_class = TenantSerializer
    lookup_field = "slug"
    search_fields = ["slug", "name"]

    def perform_create(self, serializer: TenantSerializer) -> None:
        membership = membership_of(self.request.user)
        if membership is not None and membership.is_tenant_scoped and serializer.validated_data.get("parent") is None:
            raise ValidationError({"parent": [_("A tenant admin creates tenants below their own: name the parent.")]})
        serializer.save()

    def perform_update(self, serializer: TenantSerializer) -> None:
        _refuse_own_node(self.request, serializer.instance)
        old_parent = serializer.instance.parent
        if "parent" in serializer.validated_data and serializer.validated_data["parent"] != old_parent:
            parent = serializer.validated_data.pop("parent")
            with transaction.atomic():
                tenant = serializer.save()
                services.move(tenant, parent)
                tenant.refresh_from_db()
                serializer.instance = tenant
            return
        serializer.save()

    def perform_destroy(self, instance: Tenant) -> None:
        _refuse_own_node(self.request, instance)
        try:
            services.delete(instance)
        except services.TenantInUse as error:
            # Children, members, project mappings, resources: removed or moved first, knowingly.
            raise StillReferenced(error.referenced_by) from None

    @extend_schema(request=TenantMoveSerializer, responses=TenantSerializer)
    @action(detail=True, methods=["post"])
    def move(self, request: Request, slug: str | None = None, format: str | None = None) -> Response:  # noqa: A002
        """Move the tenant and its subtree under another parent (null: make it a root); audited. Refused (400 on
        ``parent``) when the tree would be deeper than five levels or the parent is inside the subtree."""
        tenant = self.get_object()
        _refuse_own_node(request, tenant)
        body = TenantMoveSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        membership = membership_of(request.user)
        if membership is not None and membership.is_tenant_scoped and body.validated_data["parent"] is None:
            raise ValidationError({"parent": [_("A tenant admin keeps the tenants they move below their own.")]})
        try:
            tenant = services.move(tenant, body.validated_data["parent"])
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        return Response(TenantSerializer(tenant, context=self.get_serializer_context()).data)

    @extend_schema(responses=TenantTreeSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)  # one nested answer, not a page
    def tree(self, request: Request, format: str | None = None) -> Response:  # noqa: A002
        """The organisation tree the user may see, nested (a tenant user's starts at their own node), with the
        number of members of each node."""
        tenants = list(self.filter_queryset(self.get_queryset()).annotate(members=Count("memberships")))

        def node(entry: dict) -> dict:
            tenant = entry["tenant"]
            return {"slug": tenant.slug, "name": tenant.name, "depth": tenant.depth, "members": tenant.members,
                    "children": [node(child) for child in entry["children"]]}

        return Response([node(root) for root in services.as_tree(tenants)])


class MembershipFilterSet(django_filters.FilterSet):
    username = django_filters.CharFilter(field_name="user__username", help_text="one user's memberships")
    tenant = django_filters.CharFilter(field_name="tenant__slug")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["username", "tenant", "role"]


class MembershipViewSet(TenantScopedQuerysetMixin, viewsets.ModelViewSet):
    """Who has which role where; a user may hold one membership at each of several tenants (``?username=`` lists
    one user's). Operator admins manage every membership; a tenant admin those of their node and the nodes below
    it (tenant roles and bound auditors only, never their own: see MembershipSerializer)."""

    access = Access(read=OPERATOR_ONLY.read | {Role.TENANT_ADMIN}, write=TENANT_ROLES_WRITE, tenant_lookup="tenant")
    queryset = Membership.objects.select_related("user", "tenant")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    search_fields = ["user__username"]

    def perform_destroy(self, instance: Membership) -> None:
        membership = membership_of(self.request.user)
        if membership is not None and membership.is_tenant_scoped and instance.user_id == self.request.user.pk:
            raise PermissionDenied(_("You cannot remove your own membership."))
        instance.delete()


class MeView(APIView):
    access = Access(read=ALL_ROLES)

    @extend_schema(responses=MeSerializer, parameters=[OpenApiParameter(
        TENANT_HEADER, str, OpenApiParameter.HEADER, required=False,
        description="Act with your membership at this tenant (slug; “-”: the one without a tenant). Every API "
                    "route takes it; without it, your default (oldest) membership.")])
    def get(self, request: Request) -> Response:
        membership = membership_of(request.user)
        active = membership.pk if membership else None
        return Response(MeSerializer({
            "username": request.user.get_username(),
            "role": membership.role if membership else None,
            "tenant": membership.tenant.slug if membership and membership.tenant_id else None,
            "memberships": [{"id": m.pk, "role": m.role, "tenant": m.tenant.slug if m.tenant_id else None,
                             "active": m.pk == active} for m in memberships_of(request.user)],
        }).data)


class TokenView(APIView):
    """Exchange a username and password for a new API token (used by ``souverain login``): hashed at rest,
    expiring, shown once (souverain/core/tokens.py). Throttled per account and per address."""

    access = Access(read=frozenset(), write=frozenset())
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(),
                                                   "password": serializers.CharField(),
                                                   "name": serializers.CharField(required=False)}),
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField(),
                                                           "expires": serializers.DateTimeField(),
                                                           "scope": serializers.CharField()}),
                   401: OpenApiResponse(description="Wrong username or password."),
                   403: OpenApiResponse(description="The password must be changed first (portal's password page)."),
                   429: OpenApiResponse(description="Too many failed logins for the account or from the address; "
                                                    "Retry-After says when to try again.")},
    )
    def post(self, request: Request) -> Response:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        wait = auth.refuse_if_throttled(str(username or ""), request)
        if wait:
            throttle.record_failure(str(username or ""), throttle.address_of(request))
            return Response({"detail": auth.throttled_message(wait), "error": "Throttled"},
                            status=status.HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(wait)})
        request._request._souverain_throttle_checked = True
        user = authenticate(request._request, username=username,
                            password=request.data.get("password") if isinstance(request.data, dict) else None)
        if user is None or not user.is_active:
            return Response({"detail": "Wrong username or password.", "error": "AuthenticationFailed"},
                            status=status.HTTP_401_UNAUTHORIZED)
        if auth.must_change_password(user):
            return Response({"detail": auth.password_change_message(), "error": "PasswordChangeRequired"},
                            status=status.HTTP_403_FORBIDDEN)
        throttle.forget(user.get_username())
        name = request.data.get("name") or "login"
        token, secret = tokens.issue(user, name=str(name)[:100])
        return Response({"token": secret, "expires": token.expires, "scope": token.scope})
