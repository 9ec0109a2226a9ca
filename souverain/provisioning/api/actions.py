"""Day-2 actions on an inventoried server: ``/api/inventory/resources/<id>/actions/``.

GET lists the actions the user may take on it now (none for a read-only role; what the server's status allows);
POST ``{"action": "stop", "args": {...}}`` queues a ``provisioning.action`` job and answers 202 with the job. The
resource is looked up in the user's scope (another tenant's server: 404), writes need a role that may create
requests (operators, tenant admins and members), and the checks themselves are ``execution.request_action``'s.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from souverain.connectors.provisioning import SERVER_ACTIONS
from souverain.core.roles import ALL_ROLES, Role
from souverain.inventory.models import Resource
from souverain.tenancy.permissions import Access, TenantScopedQuerysetMixin, is_allowed

from .. import execution

ACTION_ACCESS = Access(read=ALL_ROLES,
                       write=frozenset({Role.OPERATOR_ADMIN, Role.OPERATOR_OPS, Role.TENANT_ADMIN, Role.TENANT_MEMBER}),
                       tenant_lookup="tenant")


class ActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=SERVER_ACTIONS)
    args = serializers.DictField(required=False, default=dict)


class ResourceActionsView(TenantScopedQuerysetMixin, generics.GenericAPIView):
    access = ACTION_ACCESS
    queryset = Resource.objects.select_related("cloud", "region", "tenant")
    serializer_class = ActionSerializer

    @extend_schema(responses=inline_serializer("ResourceActions", {
        "resource": serializers.IntegerField(), "actions": serializers.ListField(child=serializers.CharField())}))
    def get(self, request: Request, pk: int) -> Response:
        resource = self.get_object()
        may_act = is_allowed(request.user, self.access, "POST")
        return Response({"resource": resource.pk, "actions": execution.available_actions(resource) if may_act else []})

    @extend_schema(responses={202: inline_serializer("ActionQueued", {
        "job": serializers.IntegerField(), "url": serializers.CharField(), "action": serializers.CharField()})})
    def post(self, request: Request, pk: int) -> Response:
        resource = self.get_object()
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        data: dict[str, Any] = given.validated_data
        try:
            job = execution.request_action(resource, data["action"], data.get("args") or {}, user=request.user)
        except execution.ActionRefused as exc:
            raise ValidationError({exc.field: [exc.message]}) from None
        return Response({"job": job.pk, "action": data["action"],
                         "url": reverse("job-detail", args=[job.pk], request=request)}, status=status.HTTP_202_ACCEPTED)


urlpatterns = [path("inventory/resources/<int:pk>/actions/", ResourceActionsView.as_view(), name="resource-actions")]
