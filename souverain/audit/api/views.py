"""The audit API: read-only records and checkpoints, the public key, verify and export.

Operator admins and auditors read; an auditor or user bound to a tenant gets no record (see the design note in
``souverain/audit/services.py``); only operator admins may ask for a checkpoint now (POST checkpoints).
"""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from souverain.core.roles import ALL_ROLES, Role
from souverain.tenancy.permissions import Access, membership_of

from .. import services
from ..models import AuditCheckpoint, AuditRecord
from .serializers import AuditCheckpointSerializer, AuditRecordSerializer

AUDIT_READ = frozenset({Role.OPERATOR_ADMIN, Role.AUDITOR})
AUDIT_ACCESS = Access(read=AUDIT_READ, write=frozenset({Role.OPERATOR_ADMIN}))
RANGE_PARAMETERS = [
    OpenApiParameter("from", str, description="First sequence number, or an ISO date or time"),
    OpenApiParameter("to", str, description="Last sequence number, or an ISO date or time (a date: its whole day)"),
]


def _tenant_bound(request: Request) -> bool:
    membership = membership_of(request.user)
    return membership is None or membership.is_tenant_scoped


def _range(request: Request) -> tuple[str | None, str | None]:
    start, end = request.query_params.get("from"), request.query_params.get("to")
    for name, value in (("from", start), ("to", end)):
        if value:
            try:
                services.records_between(value if name == "from" else None, value if name == "to" else None)
            except ValueError as exc:
                raise ValidationError({name: [str(exc)]}) from exc
    return start, end


class AuditRecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit records in sequence order; ``?from=&to=`` (seq or ISO date/time), ``?action=``."""

    access = Access(read=AUDIT_READ)
    serializer_class = AuditRecordSerializer
    queryset = AuditRecord.objects.all()
    filterset_fields = ["action", "object_type", "object_id", "username", "source"]
    ordering_fields = ["seq"]

    @extend_schema(parameters=RANGE_PARAMETERS)
    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().list(request, *args, **kwargs)

    def get_queryset(self):  # noqa: ANN201
        if _tenant_bound(self.request):
            return AuditRecord.objects.none()
        start, end = _range(self.request)
        return services.records_between(start, end)


class AuditCheckpointViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Signed checkpoints of the chain; POST (operator admins) signs one now."""

    access = AUDIT_ACCESS
    serializer_class = AuditCheckpointSerializer
    queryset = AuditCheckpoint.objects.all()
    filterset_fields: list[str] = []
    ordering_fields = ["number"]

    def get_queryset(self):  # noqa: ANN201
        return AuditCheckpoint.objects.none() if _tenant_bound(self.request) else AuditCheckpoint.objects.all()

    @extend_schema(request=None, responses={201: AuditCheckpointSerializer})
    def create(self, request: Request) -> Response:
        checkpoint = services.make_checkpoint()
        return Response(AuditCheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)


class AuditPublicKeyView(APIView):
    """The Ed25519 public key that checks checkpoints' signatures (PEM)."""

    access = Access(read=ALL_ROLES)

    @extend_schema(responses={(200, "application/x-pem-file"): str})
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(services.public_key_pem(), content_type="application/x-pem-file")


class AuditVerifyView(APIView):
    """Recompute the chain (or ``?from=&to=``) and check every checkpoint: ok, counts, and the problems found,
    the first bad sequence number first."""

    access = Access(read=AUDIT_READ)

    @extend_schema(parameters=RANGE_PARAMETERS, responses=serializers.DictField())
    def get(self, request: Request) -> Response:
        start, end = _range(request)
        return Response(services.verify(start, end).as_dict())


class AuditExportView(APIView):
    """Checkpoints then records as JSON lines (``?from=&to=``), for a SIEM or ``souverain audit verify --file``."""

    access = Access(read=AUDIT_READ)

    @extend_schema(parameters=RANGE_PARAMETERS, responses={(200, "application/x-ndjson"): str})
    def get(self, request: Request) -> StreamingHttpResponse:
        start, end = _range(request)
        lines = iter(()) if _tenant_bound(request) else services.export_lines(start, end)
        response = StreamingHttpResponse((line + "\n" for line in lines), content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="audit.jsonl"'
        return response
