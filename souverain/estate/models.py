"""The estate: legal entities and who owns them, datacenters, clouds, regions and certifications."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from souverain.core.crypto import decrypt_json, encrypt_json
from souverain.core.models import ChangeLoggedModel

from . import cloudkinds
from .cloudkinds import validate_cloud_kind


class LegalEntity(ChangeLoggedModel):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        STATE = "state", _("State")
        FUND = "fund", _("Fund")
        PUBLIC_FLOAT = "public_float", _("Public float")
        INDIVIDUAL = "individual", _("Individual")

    slug = models.SlugField(unique=True, max_length=80)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, help_text=_("Seat / domicile, ISO 3166-1 alpha-2"))
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
        help_text=_("Explicit controlling parent; otherwise the holder of more than 50 % of the votes"),
    )
    dpf_certified = models.BooleanField(default=False, help_text=_("EU-US Data Privacy Framework"))
    dpf_since = models.DateField(null=True, blank=True)
    dpf_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "legal entities"

    def __str__(self) -> str:
        return self.name


class Shareholding(ChangeLoggedModel):
    owned = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="shareholdings")
    holder = models.ForeignKey(LegalEntity, on_delete=models.CASCADE, related_name="holdings")
    capital = models.DecimalField(max_digits=6, decimal_places=3, help_text=_("Share of capital, percent"))
    voting = models.DecimalField(max_digits=6, decimal_places=3, help_text=_("Share of voting rights, percent"))

    class Meta:
        ordering = ["owned__name", "-capital"]
        constraints = [models.UniqueConstraint(fields=["owned", "holder"], name="unique_shareholding")]

    def __str__(self) -> str:
        return f"{self.holder} holds {self.capital} % of {self.owned}"


class Datacenter(ChangeLoggedModel):
    slug = models.SlugField(unique=True, max_length=80)
    name = models.CharField(max_length=200)
    operator = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="datacenters")
    country = models.CharField(max_length=2)
    city = models.CharField(max_length=100, blank=True)
    tier = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["country", "name"]

    def __str__(self) -> str:
        return self.name


class Cloud(ChangeLoggedModel):

    class VendorAccess(models.TextChoices):
        NONE = "none", _("None")
        SOFTWARE_SUPPLY = "software_supply", _("Software supply")
        REMOTE_SUPPORT = "remote_support", _("Remote support")
        OPERATIONS = "operations", _("Operations")

    class KeyHolder(models.TextChoices):
        PROVIDER = "provider", _("Provider")
        CUSTOMER = "customer", _("Customer")
        EXTERNAL_HSM = "external_hsm", _("External HSM")

    slug = models.SlugField(unique=True, max_length=80)
    name = models.CharField(max_length=200)
    # An installed provider ("openstack", "nutanix"...) or a described-only kind: cloudkinds, not database choices.
    kind = models.CharField(max_length=20, validators=[validate_cloud_kind])
    clouds_yaml_entry = models.CharField(max_length=100, blank=True, help_text=_("Entry name in clouds.yaml"))
    endpoint = models.URLField(blank=True)
    # Fernet token of a JSON dict; never serialised, never logged (see changelog_exclude).
    credentials_encrypted = models.TextField(blank=True, editable=False)
    operator = models.ForeignKey(LegalEntity, on_delete=models.PROTECT, related_name="operated_clouds")
    stack_distribution = models.CharField(max_length=200, blank=True)
    stack_vendor = models.ForeignKey(
        LegalEntity, null=True, blank=True, on_delete=models.PROTECT, related_name="supplied_clouds"
    )
    vendor_access = models.CharField(max_length=20, choices=VendorAccess.choices, default=VendorAccess.NONE)
    hardware_vendors = models.ManyToManyField(LegalEntity, blank=True, related_name="hardware_for_clouds")
    admin_staff_countries = models.JSONField(default=list, blank=True)
    support_staff_countries = models.JSONField(default=list, blank=True)
    key_custody = models.CharField(max_length=20, choices=KeyHolder.choices, default=KeyHolder.PROVIDER)
    key_custody_country = models.CharField(max_length=2, blank=True)
    # A customer's private cloud belongs to that customer: other tenants neither see it nor get it proposed,
    # and their resources found in it are violations. No tenant listed: a public cloud, open to all tenants.
    dedicated_to = models.ManyToManyField(
        "tenancy.Tenant", blank=True, related_name="dedicated_clouds", through="CloudDedication",
        help_text=_("Tenants this cloud is dedicated to; none: a public cloud, open to every tenant"),
    )

    changelog_exclude = ("credentials_encrypted",)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_kind_display(self) -> str:
        return cloudkinds.label(self.kind)

    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        data["has_credentials"] = bool(self.credentials_encrypted)
        return data

    def set_credentials(self, credentials: dict[str, Any]) -> None:
        self.credentials_encrypted = encrypt_json(credentials) if credentials else ""

    def get_credentials(self) -> dict[str, Any]:
        return decrypt_json(self.credentials_encrypted)


class CloudDedication(models.Model):
    """One tenant a private cloud is dedicated to. Deleting the tenant is refused while it holds one (PROTECT):
    removing the last row would silently make another customer's private cloud public."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="dedications")
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="cloud_dedications")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cloud", "tenant"], name="unique_cloud_dedication")]

    def __str__(self) -> str:
        return f"{self.cloud} → {self.tenant}"


class Region(ChangeLoggedModel):
    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="regions")
    slug = models.SlugField(max_length=80, help_text=_("The region's name in the cloud's catalog"))
    name = models.CharField(max_length=200)
    datacenters = models.ManyToManyField(Datacenter, blank=True, related_name="regions")
    backup_datacenters = models.ManyToManyField(Datacenter, blank=True, related_name="backup_for_regions")

    class Meta:
        ordering = ["cloud__name", "slug"]
        constraints = [models.UniqueConstraint(fields=["cloud", "slug"], name="unique_region_per_cloud")]

    def __str__(self) -> str:
        return f"{self.cloud.slug}/{self.slug}"

    @property
    def key(self) -> str:
        return f"{self.cloud.slug}/{self.slug}"


class AvailabilityZone(ChangeLoggedModel):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="availability_zones")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["region", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="unique_az_per_region")]

    def __str__(self) -> str:
        return f"{self.region}:{self.name}"


class Certification(ChangeLoggedModel):
    """A certificate held by a whole cloud, or by one region of it (then ``region`` is set)."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="certifications")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.CASCADE, related_name="certifications")
    scheme = models.CharField(max_length=40)
    version = models.CharField(max_length=40, blank=True)
    level = models.CharField(max_length=40, blank=True)
    scope = models.CharField(max_length=300, blank=True)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    evidence_url = models.URLField(blank=True, max_length=500)

    class Meta:
        ordering = ["scheme", "valid_from"]

    def __str__(self) -> str:
        holder = self.region or self.cloud
        return f"{self.scheme} {self.version} {self.level} ({holder})".replace("  ", " ")

    def clean(self) -> None:
        if self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity precedes its start.")})
        if self.region_id and self.region.cloud_id != self.cloud_id:
            raise ValidationError({"region": _("The region belongs to another cloud.")})

    def is_valid_on(self, day: Any) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)
