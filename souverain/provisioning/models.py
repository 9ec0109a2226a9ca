"""Provisioning: one request model for every kind, its timeline, its approvals, and the quotas it is checked
against.

A ``ServiceRequest`` is what a tenant user asks for (a server with an optional volume and floating IP, a volume,
a network with its subnet and router, a security group with rules, a floating IP) in a region they picked or that
Souverain chose. Its ``spec`` is the kind's own JSON, validated per kind by ``services.validate_spec``; its
``demand`` is what it will consume of the quotas (counted as in-flight until it ends). Every step it goes through
is a ``RequestEvent`` row, so the timeline says who did what, when and why; each approval level it needs is an
``Approval`` row, decided in sequence. ``Quota`` rows are the limits of one tenant node (overall, or on one
cloud), carved out of the parent node's; ``ApprovalPolicy`` rows are the versions of the approval rules (YAML).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from souverain.core.models import ChangeLoggedModel

#: The quota dimensions, in the order reports show them.
QUOTA_FIELDS = ("instances", "vcpu", "ram_mb", "volume_gb", "floating_ips")


class ServiceRequest(models.Model):
    """Not change-logged row by row: its timeline is its history, and each step emits an audit event; a change
    log row per step would also move the estate token that placement's cache is keyed on."""

    class Kind(models.TextChoices):
        SERVER = "server", _("Server")
        VOLUME = "volume", _("Volume")
        NETWORK = "network", _("Network")
        SECURITY_GROUP = "security_group", _("Security group")
        FLOATING_IP = "floating_ip", _("Floating IP")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        # Refused by the gate (placement or quota) before any approval or cloud call.
        REFUSED = "refused", _("Refused")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        # Approved (or needing no approval): its job is queued.
        APPROVED = "approved", _("Approved")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    #: Statuses after which nothing more happens to the request.
    FINAL = frozenset({Status.REFUSED, Status.DONE, Status.FAILED, Status.REJECTED, Status.CANCELLED, Status.EXPIRED})
    #: Statuses whose demand counts as in-flight usage in the quotas.
    IN_FLIGHT = frozenset({Status.SUBMITTED, Status.AWAITING_APPROVAL, Status.APPROVED, Status.RUNNING})

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="service_requests")
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="service_requests")
    # Kept beside the user: the timeline still names who asked after the account is deleted.
    requester_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=255)
    spec = models.JSONField(default=dict, blank=True, help_text=_("What to create, the kind's own fields"))
    region = models.ForeignKey("estate.Region", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="service_requests")
    auto = models.BooleanField(default=False, help_text=_("Souverain chose the region (the best allowed one)"))
    data_classes = models.JSONField(default=list, blank=True)
    requirements = models.JSONField(default=dict, blank=True)
    # The classes the gate decided on (request merged with the tenant's defaults): written on the cloud objects.
    effective_classes = models.JSONField(default=list, blank=True)
    # What it consumes of the quotas: {"cloud": slug, "instances": n, "vcpu": n, "ram_mb": n, "volume_gb": n, ...}.
    demand = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    status_detail = models.TextField(blank=True)
    # Why the gate refused it: {"stage": "placement" | "quota", "reasons": [...]} or {"stage": "quota", ...}.
    refusal = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True)
    # What the execution created: [{"kind": "server", "id": "...", "name": "...", "cloud": ..., "region": ...}].
    created_objects = models.JSONField(default=list, blank=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The approval level waiting for a decision (1-based); 0 when none is waiting.
    approval_level = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True,
                                      help_text=_("A request still awaiting approval then expires"))

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["requester", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="provisioning_request_idempotency"),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="prov_request_tenant_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name} (#{self.pk})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL


class RequestEvent(models.Model):
    """One step of a request's timeline: who, when, why (in both languages), and the step's data."""

    class Step(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        PLACEMENT = "placement", _("Placement checked")
        QUOTA = "quota", _("Quota checked")
        REFUSED = "refused", _("Refused")
        APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        PROGRESS = "progress", _("Progress")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    step = models.CharField(max_length=24, choices=Step.choices)
    actor = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()
    message = models.TextField(blank=True)
    message_fr = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"#{self.request_id} {self.step}"


class Approval(models.Model):
    """One level of approval a request needs, decided in sequence (level 1 first)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")  # an earlier level has not decided yet
        PENDING = "pending", _("Pending")  # this level is the one to decide now
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        VOID = "void", _("Void")  # the request ended otherwise (cancelled, expired, rejected at another level)

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="approvals")
    level = models.PositiveSmallIntegerField()
    rule = models.CharField(max_length=100, blank=True, help_text=_("The approval rule that asked for it"))
    # Who may decide: {"role": "tenant-admin", "node": "requesting" | "parent" | "level", "level": n} or
    # {"role": "operator-admin"}; ``approver_tenant`` is the node whose member decides (None: operators).
    approver = models.JSONField(default=dict)
    approver_tenant = models.ForeignKey("tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["request", "level"]
        constraints = [models.UniqueConstraint(fields=["request", "level"], name="provisioning_approval_level")]

    def __str__(self) -> str:
        return f"#{self.request_id} level {self.level} ({self.status})"


class Quota(ChangeLoggedModel):
    """The limits of one tenant node, overall (``cloud`` empty) or on one cloud; an empty limit is unlimited.

    A child's limits are carved out of its parent's: the children's sum never exceeds the parent's limit."""

    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, related_name="quotas")
    cloud = models.ForeignKey("estate.Cloud", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    instances = models.PositiveIntegerField(null=True, blank=True)
    vcpu = models.PositiveIntegerField(null=True, blank=True)
    ram_mb = models.PositiveBigIntegerField(null=True, blank=True)
    volume_gb = models.PositiveIntegerField(null=True, blank=True)
    floating_ips = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["tenant__name", "cloud__slug"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "cloud"], name="provisioning_quota_per_cloud"),
            models.UniqueConstraint(fields=["tenant"], condition=Q(cloud__isnull=True),
                                    name="provisioning_quota_overall"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} / {self.cloud.slug if self.cloud_id else 'all clouds'}"

    def limits(self) -> dict[str, int | None]:
        return {f: getattr(self, f) for f in QUOTA_FIELDS}


class ApprovalPolicy(models.Model):
    """One version of the approval rules (YAML); the newest active one applies to new requests."""

    number = models.PositiveIntegerField(unique=True)
    source = models.TextField()
    rules = models.JSONField(default=list, help_text=_("The rules as validated from the source"))
    active = models.BooleanField(default=True)
    uploaded_by = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"approval rules v{self.number}"
