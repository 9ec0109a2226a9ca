from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin
from souverain.sovereignty.kb import is_country_code
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import membership_of

from ..models import AvailabilityZone, Certification, Cloud, Datacenter, LegalEntity, Region, Shareholding
from ..services import cycle_with_parent


def _country(code: str) -> str:
    if not is_country_code(code):
        raise serializers.ValidationError(
            _("Unknown country code '%(code)s' (ISO 3166-1 alpha-2 expected).") % {"code": code})
    return code


class ShareholdingSerializer(serializers.ModelSerializer):
    holder = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    holder_country = serializers.CharField(source="holder.country", read_only=True)

    class Meta:
        model = Shareholding
        fields = ["holder", "holder_country", "capital", "voting"]


class LegalEntitySerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", queryset=LegalEntity.objects.all(), allow_null=True,
                                          required=False)
    shareholders = ShareholdingSerializer(source="shareholdings", many=True, read_only=True)

    class Meta:
        model = LegalEntity
        fields = ["id", "slug", "name", "country", "kind", "parent", "dpf_certified", "dpf_since", "dpf_until",
                  "shareholders"]

    def validate_country(self, code: str) -> str:
        return _country(code)

    def validate_parent(self, parent: LegalEntity | None) -> LegalEntity | None:
        # A new entity has no holders nor children yet: only an existing one can close a cycle.
        if self.instance is not None:
            cycle = cycle_with_parent(self.instance, parent)
            if cycle:
                raise serializers.ValidationError(
                    _("This parent would close an ownership cycle: %(path)s.") % {"path": " → ".join(cycle)})
        return parent


class DatacenterSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    operator = serializers.SlugRelatedField(slug_field="slug", queryset=LegalEntity.objects.all())

    class Meta:
        model = Datacenter
        fields = ["id", "slug", "name", "operator", "country", "city", "tier"]

    def validate_country(self, code: str) -> str:
        return _country(code)


class CertificationSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    cloud = serializers.SlugRelatedField(slug_field="slug", queryset=Cloud.objects.all())
    region = serializers.PrimaryKeyRelatedField(queryset=Region.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Certification
        fields = ["id", "cloud", "region", "scheme", "version", "level", "scope", "valid_from", "valid_until",
                  "evidence_url"]

    def validate(self, attrs: dict) -> dict:
        # The model's own checks, on the object as it will be saved (a PATCH sends only some fields).
        current = {name: getattr(self.instance, name) for name in ("cloud", "region", "valid_from", "valid_until")
                   } if self.instance is not None else {}
        try:
            Certification(**{**current, **attrs}).clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class RegionSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    cloud = serializers.SlugRelatedField(slug_field="slug", queryset=Cloud.objects.all())
    key = serializers.CharField(read_only=True)
    datacenters = serializers.SlugRelatedField(slug_field="slug", many=True, queryset=Datacenter.objects.all(),
                                               required=False)
    backup_datacenters = serializers.SlugRelatedField(slug_field="slug", many=True,
                                                      queryset=Datacenter.objects.all(), required=False)
    availability_zones = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Region
        fields = ["id", "key", "cloud", "slug", "name", "datacenters", "backup_datacenters", "availability_zones"]


class CloudSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    """Credentials are write-only: accepted, encrypted at rest, never returned (``has_credentials`` only)."""

    operator = serializers.SlugRelatedField(slug_field="slug", queryset=LegalEntity.objects.all())
    stack_vendor = serializers.SlugRelatedField(slug_field="slug", queryset=LegalEntity.objects.all(),
                                                allow_null=True, required=False)
    hardware_vendors = serializers.SlugRelatedField(slug_field="slug", many=True,
                                                    queryset=LegalEntity.objects.all(), required=False)
    regions = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    credentials = serializers.DictField(write_only=True, required=False)
    # Lists of ISO 3166-1 alpha-2 codes: exposure reads each as a country.
    admin_staff_countries = serializers.ListField(child=serializers.CharField(min_length=2, max_length=2),
                                                  required=False, max_length=300)
    support_staff_countries = serializers.ListField(child=serializers.CharField(min_length=2, max_length=2),
                                                    required=False, max_length=300)
    has_credentials = serializers.SerializerMethodField()
    dedicated_to = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Tenant.objects.all(), required=False,
        help_text="Slugs of the tenants this private cloud is dedicated to; empty: a public cloud (every tenant). "
                  "A tenant's users see only their own tenant here.")

    class Meta:
        model = Cloud
        fields = ["id", "slug", "name", "kind", "clouds_yaml_entry", "endpoint", "operator", "stack_distribution",
                  "stack_vendor", "vendor_access", "hardware_vendors", "admin_staff_countries",
                  "support_staff_countries", "key_custody", "key_custody_country", "regions", "dedicated_to",
                  "credentials", "has_credentials"]

    def to_representation(self, instance: Cloud) -> dict:
        data = super().to_representation(instance)
        request = self.context.get("request")
        membership = membership_of(request.user) if request is not None else None
        if membership is not None and membership.is_tenant_scoped:  # the other customers of a shared private cloud
            own = membership.tenant.slug if membership.tenant else None
            data["dedicated_to"] = [slug for slug in data["dedicated_to"] if slug == own]
        return data

    def validate_admin_staff_countries(self, codes: list[str]) -> list[str]:
        return [_country(code) for code in codes]

    def validate_support_staff_countries(self, codes: list[str]) -> list[str]:
        return [_country(code) for code in codes]

    def validate_key_custody_country(self, code: str) -> str:
        return _country(code) if code else code

    def get_has_credentials(self, obj: Cloud) -> bool:
        return bool(obj.credentials_encrypted)

    def _save_credentials(self, instance: Cloud, credentials: dict | None) -> Cloud:
        if credentials is not None:
            instance.set_credentials(credentials)
            instance.save()
        return instance

    def create(self, validated_data: dict) -> Cloud:
        credentials = validated_data.pop("credentials", None)
        return self._save_credentials(super().create(validated_data), credentials)

    def update(self, instance: Cloud, validated_data: dict) -> Cloud:
        credentials = validated_data.pop("credentials", None)
        return self._save_credentials(super().update(instance, validated_data), credentials)


class AvailabilityZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = AvailabilityZone
        fields = ["id", "region", "name"]
