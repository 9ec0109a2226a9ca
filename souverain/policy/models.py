"""Operators' own Rego modules, versioned: a version is activated only after it compiles and its tests pass."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# A policy's name becomes its Rego package (souverain.custom.<name>) and a URL segment of the portal.
NAME_PATTERN = r"^[a-z][a-z0-9_]*\Z"
NAME_RULE = _("a policy name is lower case letters, digits and _, starting with a letter, at most 80 characters "
              "(it becomes a Rego package name)")


class OperatorPolicy(models.Model):
    name = models.SlugField(unique=True, max_length=80, validators=[RegexValidator(NAME_PATTERN, NAME_RULE)],
                            help_text=_("Module name; its package is souverain.custom.<name>"))
    description = models.TextField(blank=True)
    active_version = models.OneToOneField("PolicyVersion", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUPERSEDED = "superseded", _("Superseded")
        REJECTED = "rejected", _("Rejected")

    policy = models.ForeignKey(OperatorPolicy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    source = models.TextField()
    test_source = models.TextField(help_text=_("The module's tests: test_ rules, in a separate module"))
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices)
    errors = models.JSONField(default=list, blank=True)  # [{module, line, column, message}]
    tests = models.JSONField(default=dict, blank=True)  # {"passed": [...], "failed": [{name, message}]}
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="unique_policy_version")]

    def __str__(self) -> str:
        return f"{self.policy.name} v{self.number} ({self.status})"


class PolicyActivation(models.Model):
    """Every activation: who, when, which version replaced which, and the diff of the source."""

    policy = models.ForeignKey(OperatorPolicy, on_delete=models.CASCADE, related_name="activations")
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="activations")
    previous = models.ForeignKey(PolicyVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    activated_at = models.DateTimeField(auto_now_add=True)
    diff = models.TextField(blank=True)

    class Meta:
        ordering = ["-activated_at", "-id"]

    def __str__(self) -> str:
        return f"{self.version} activated"


class Violation(models.Model):
    """An inventoried resource that a rule denies where it is: open until a pass no longer finds it."""

    class Severity(models.TextChoices):
        CRITICAL = "critical", _("Critical")
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")

    resource = models.ForeignKey("inventory.Resource", on_delete=models.CASCADE, related_name="violations")
    # Copied from the resource so that lists filter by tenant and region without a join.
    tenant = models.ForeignKey("tenancy.Tenant", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="violations")
    region = models.ForeignKey("estate.Region", on_delete=models.CASCADE, related_name="violations")
    rule = models.CharField(max_length=120)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.TextField()
    reason = models.JSONField(default=dict, help_text=_("The rule's facts and source"))
    first_seen = models.DateTimeField()
    # When a pass last changed it (opened it, or its reasons changed). Passes that merely confirm an open
    # violation do not rewrite it — that keeps a steady-state pass over a million resources cheap; the latest
    # CompliancePass covering the resource is when it was last confirmed.
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen", "id"]
        constraints = [
            # One open violation per resource and rule; resolved ones are history.
            models.UniqueConstraint(fields=["resource", "rule"], condition=models.Q(resolved_at__isnull=True),
                                    name="policy_violation_open"),
        ]
        indexes = [
            models.Index(fields=["tenant", "severity"], name="policy_violation_tenant"),
            models.Index(fields=["rule", "resolved_at"], name="policy_violation_rule"),
            models.Index(fields=["region", "resolved_at"], name="policy_violation_region"),
            # The list's default ordering: its first page (and every cursor page) is an index walk that stops
            # after a page of rows, instead of a sort of every violation.
            models.Index(fields=["-last_seen", "id"], name="policy_violation_last_seen"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.resource_id}"


class CompliancePass(models.Model):
    """One evaluation of the inventory: what triggered it, what it covered, what it found."""

    started = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=40)  # sync, policy, estate, daily, manual
    scope = models.CharField(max_length=10)  # full, partial
    date = models.DateField()
    policy_version = models.CharField(max_length=32)
    resources = models.PositiveIntegerField(default=0)
    classes = models.PositiveIntegerField(default=0)
    opened = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started", "-id"]

    def __str__(self) -> str:
        return f"compliance pass {self.pk} ({self.trigger})"


class SharedDecision(models.Model):
    """A decision of the engine, shared by every process (``policy/shared.py``): the second level of the one
    decision cache, under the same key (policy set version, date, hashes of the workload, region profile and
    knowledge-base input). Derived data: any row may be dropped at any time, and rows of past dates are."""

    key = models.CharField(max_length=160, primary_key=True)
    date = models.DateField(db_index=True)
    deny = models.JSONField(default=list)
    warn = models.JSONField(default=list)
    packs = models.JSONField(default=list)


class PlacementClass(models.Model):
    """A workload (as the rules see it) that placement was asked about: what the compliance job decides again,
    ahead of users, whenever the estate, the knowledge base, the policies or the date change."""

    key = models.CharField(max_length=64, primary_key=True)  # hash of the workload's deciding part
    workload = models.JSONField()
    last_used = models.DateField(db_index=True)
