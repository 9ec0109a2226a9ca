from django.urls import path
from rest_framework.routers import DefaultRouter

from . import evidence, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("audit/records", views.AuditRecordViewSet, basename="auditrecord")
router.register("audit/checkpoints", views.AuditCheckpointViewSet, basename="auditcheckpoint")

urlpatterns = [
    *router.urls,
    path("audit/public-key/", views.AuditPublicKeyView.as_view(), name="audit-public-key"),
    path("audit/verify/", views.AuditVerifyView.as_view(), name="audit-verify"),
    path("audit/export/", views.AuditExportView.as_view(), name="audit-export"),
    path("evidence/", evidence.EvidencePackView.as_view(), name="evidence-pack"),
]
