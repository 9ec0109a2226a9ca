from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souverain.core import auth, throttle, tokens
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
