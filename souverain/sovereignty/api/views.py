from rest_framework import viewsets

from souverain.tenancy.permissions import AUTHENTICATED_READ_ONLY

from ..models import AdequacyDecision, CertificationScheme, Country, KnowledgeBaseRelease, Law
from . import serializers


class KnowledgeViewSet(viewsets.ReadOnlyModelViewSet):
    access = AUTHENTICATED_READ_ONLY


class CountryViewSet(KnowledgeViewSet):
    queryset = Country.objects.all()
    serializer_class = serializers.CountrySerializer
    filterset_fields = ["eu_member", "eea"]
    search_fields = ["code", "name"]


class AdequacyDecisionViewSet(KnowledgeViewSet):
    queryset = AdequacyDecision.objects.all()
    serializer_class = serializers.AdequacyDecisionSerializer
    lookup_field = "key"


class LawViewSet(KnowledgeViewSet):
    queryset = Law.objects.all()
    serializer_class = serializers.LawSerializer
    filterset_fields = ["country"]


class CertificationSchemeViewSet(KnowledgeViewSet):
    queryset = CertificationScheme.objects.all()
    serializer_class = serializers.CertificationSchemeSerializer


class KnowledgeBaseReleaseViewSet(KnowledgeViewSet):
    queryset = KnowledgeBaseRelease.objects.all()
    serializer_class = serializers.KnowledgeBaseReleaseSerializer
    filterset_fields = ["file"]
