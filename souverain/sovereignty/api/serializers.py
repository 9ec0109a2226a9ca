from rest_framework import serializers

from ..models import AdequacyDecision, CertificationScheme, Country, KnowledgeBaseRelease, Law


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["code", "name", "eu_member", "eu_since", "eea", "source"]


class AdequacyDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdequacyDecision
        fields = ["key", "country", "organisation", "scope", "decision", "adopted", "source", "notes"]


class LawSerializer(serializers.ModelSerializer):
    class Meta:
        model = Law
        fields = ["slug", "name", "country", "citation", "enacted", "summary", "channels", "source", "checked"]


class CertificationSchemeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CertificationScheme
        fields = ["slug", "name", "issuer", "country", "versions", "levels", "criteria", "source"]


class KnowledgeBaseReleaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = KnowledgeBaseRelease
        fields = ["id", "file", "version", "checked", "loaded_at", "changes"]
