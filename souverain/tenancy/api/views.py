from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souverain.core import events
from souverain.core.api import refuse_delete_while_referenced
from souverain.core.roles import ALL_ROLES, Role

from ..models import Membership, Tenant
from ..permissions import OPERATOR_ONLY, Access, TenantScopedQuerysetMixin, membership_of
from .serializers import MembershipSerializer, MeSerializer, TenantSerializer


class TenantViewSet(TenantScopedQuerysetMixin, viewsets.ModelViewSet):
    """Operators manage tenants; a tenant's users see their own tenant only."""

    access = Access(read=ALL_ROLES, write=frozenset({Role.OPERATOR_ADMIN}), tenant_lookup="pk")
    queryset = Tenant.objects.all()
    serializer_class = TenantSerializer
    lookup_field = "slug"
    search_fields = ["slug", "name"]

    def perform_destroy(self, instance: Tenant) -> None:
        # Deleting would cascade to memberships and project mappings and orphan resources: refuse while they exist.
        refuse_delete_while_referenced(instance)
        super().perform_destroy(instance)


class MembershipViewSet(TenantScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    access = Access(read=OPERATOR_ONLY.read | {Role.TENANT_ADMIN}, tenant_lookup="tenant")
    queryset = Membership.objects.select_related("user", "tenant")
    serializer_class = MembershipSerializer


class MeView(APIView):
    access = Access(read=ALL_ROLES)

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        membership = membership_of(request.user)
        return Response(MeSerializer({
            "username": request.user.get_username(),
            "role": membership.role if membership else None,
            "tenant": membership.tenant.slug if membership and membership.tenant_id else None,
        }).data)


class TokenView(APIView):
    """Exchange a username and password for an API token (used by ``souverain login``)."""

    access = Access(read=frozenset(), write=frozenset())
    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        request=inline_serializer("TokenRequest", {"username": serializers.CharField(),
                                                   "password": serializers.CharField()}),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request: Request) -> Response:
        user = authenticate(request, username=request.data.get("username"), password=request.data.get("password"))
        if user is None or not user.is_active:
            return Response({"detail": "Wrong username or password.", "error": "AuthenticationFailed"},
                            status=status.HTTP_401_UNAUTHORIZED)
        token, created = Token.objects.get_or_create(user=user)
        # The audit trail records who obtained a token, never the token itself.
        events.emit("auth.token", object_type="auth.user", object_id=str(user.pk), object_repr=user.get_username(),
                    username=user.get_username(), source="api", data={"created": created})
        return Response({"token": token.key})
