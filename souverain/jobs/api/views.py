from __future__ import annotations

from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from souverain.core.roles import OPERATOR_ROLES, Role
from souverain.tenancy.permissions import Access, TenantScopedQuerysetMixin

from .. import services
from ..filtersets import JobFilterSet
from ..models import Job
from .serializers import JobSerializer

# Jobs name clouds and carry their errors: operators and auditors read them; operators start them. An auditor
# bound to a tenant reads the jobs about that tenant's objects only (estate-wide work, such as syncs, is not).
JOB_ACCESS = Access(read=OPERATOR_ROLES | {Role.AUDITOR}, write=OPERATOR_ROLES, tenant_lookup="tenant")


class JobViewSet(TenantScopedQuerysetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Background jobs. POST ``{"kind": "inventory.sync", "params": {"clouds": [...], "full": true}}`` starts one."""

    access = JOB_ACCESS
    queryset = Job.objects.select_related("tenant")
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    ordering_fields = ["created", "started", "finished", "status", "kind"]

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job = Job.objects.create(kind=serializer.validated_data["kind"], params=serializer.validated_data["params"],
                                 requested_by=request.user.get_username())
        services.enqueue(job)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
