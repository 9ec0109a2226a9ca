"""Operators' own Rego modules, versioned: a version is activated only after it compiles and its tests pass."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

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


def denial_hash(rule: str, severity: str, message: str, reason: Any) -> str:
    """The content hash that makes a ``Denial`` unique: sha256 of its canonical JSON."""
    text = json.dumps([rule, severity, message, reason], sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def french_message(message: str, reason: Any) -> str:
    """The French text of a denial: its entries' ``message_fr`` joined as the English ones are."""
    if isinstance(reason, dict):
        return str(reason.get("message_fr") or message)
    if isinstance(reason, list) and reason:
        texts = [str(e.get("message_fr") or e.get("message") or "") for e in reason if isinstance(e, dict)]
        if any(texts):
            return " ".join(t for t in texts if t)[:4000]
    return message


class Denial(models.Model):
    """One distinct denial — what a rule says about a class of resources — stored once and referenced by every
    violation that carries it (a million violations share a few thousand denials). Never changed once
    written: different text is a different row (``hash`` is the content hash)."""

    hash = models.CharField(max_length=64, unique=True)
    rule = models.CharField(max_length=120)
    severity = models.CharField(max_length=10)
    message = models.TextField()
    message_fr = models.TextField(blank=True)
    reason = models.JSONField(default=dict, help_text=_("The rule's facts and source"))

    def __str__(self) -> str:
        return f"{self.rule}: {self.message[:60]}"

    @classmethod
    def for_text(cls, rule: str, severity: str, message: str, reason: Any) -> Denial:
        """The denial with this content, created if new."""
        digest = denial_hash(rule, severity, message, reason)
        denial, _created = cls.objects.get_or_create(hash=digest, defaults={
            "rule": rule, "severity": severity, "message": message, "reason": reason,
            "message_fr": french_message(message, reason)})
        return denial


class ViolationQuerySet(models.QuerySet):
    def bulk_create(self, objs: Iterable[Violation], *args: Any, **kwargs: Any) -> list[Violation]:
        objs = list(objs)
        for obj in objs:
            obj._attach_denial()
        return super().bulk_create(objs, *args, **kwargs)


class ViolationManager(models.Manager.from_queryset(ViolationQuerySet)):  # type: ignore[misc]
    """Violations come with their denial: every reader of ``message`` and ``reason`` gets them in one query."""

    def get_queryset(self) -> ViolationQuerySet:
        return super().get_queryset().select_related("denial")


class Violation(models.Model):
    """An inventoried resource that a rule denies where it is: open until a pass no longer finds it.

    Its text lives in the ``Denial`` it references (``message``, ``message_fr`` and ``reason`` read through
    it). ``Violation(message=…, reason=…)`` (create, bulk_create) still works: the denial with that content is
    found or created when the violation is saved."""

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
    denial = models.ForeignKey(Denial, on_delete=models.PROTECT, related_name="violations", db_index=False)
    first_seen = models.DateTimeField()
    # When a pass last changed it (opened it, or its denial changed). Passes that merely confirm an open
    # violation do not rewrite it — that keeps a steady-state pass over a million resources cheap; the latest
    # CompliancePass covering the resource is when it was last confirmed.
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ViolationManager()

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

    def __init__(self, *args: Any, message: str | None = None, reason: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._text = None if message is None and reason is None else (message or "", {} if reason is None else reason)

    def __str__(self) -> str:
        return f"{self.rule} on {self.resource_id}"

    def _attach_denial(self) -> None:
        if self._text is not None and self.denial_id is None:
            self.denial = Denial.for_text(self.rule, self.severity, *self._text)
        self._text = None

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._attach_denial()
        super().save(*args, **kwargs)

    @property
    def message(self) -> str:
        return self._text[0] if self._text is not None else self.denial.message

    @property
    def message_fr(self) -> str:
        return french_message(*self._text) if self._text is not None else self.denial.message_fr

    @property
    def reason(self) -> Any:
        return self._text[1] if self._text is not None else self.denial.reason


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
    timings: dict[str, float]  # set by compliance.evaluate, not stored: seconds by phase

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
