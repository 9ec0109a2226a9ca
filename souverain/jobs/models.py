"""Background jobs the portal shows (started, progress, counts, errors, duration) and the leases that
keep two workers from doing the same thing at once.

A job row is the single record of a piece of background work, whoever runs it: the in-process worker of
the embedded default or a Celery worker in scale mode. Workers claim a queued row with one conditional
UPDATE, so a job is never run twice at the same time even if it was delivered twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        # Finished, but some parts failed (e.g. one cloud's volume service was down): the rest is done.
        PARTIAL = "partial", _("Partially succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=64, help_text=_("Registered job kind, e.g. inventory.sync"))
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # Refreshed while the job runs: a running job whose heartbeat is old belongs to a dead worker.
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0, help_text=_("0 to 1"))
    message = models.CharField(max_length=300, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    # Per-part progress, e.g. {"sovereign/fr-paris-1": {"state": "running", "done": 3, "total": 14, ...}}.
    detail = models.JSONField(default=dict, blank=True)
    # The tenant whose objects the job is about, when it is about one tenant's only (an auditor bound to a tenant
    # sees those jobs and no other); empty for estate-wide work (syncs, compliance passes over everything).
    tenant = models.ForeignKey("tenancy.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "created"], name="job_status_created")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.PARTIAL, self.Status.FAILED)

    @property
    def duration(self) -> dt.timedelta | None:
        if self.started is None:
            return None
        return (self.finished or timezone.now()) - self.started


class Lease(models.Model):
    """A named, expiring lock held by one worker (the database flavour of the per-cloud lock).

    Taken and renewed with conditional UPDATEs rather than ``select_for_update``: SQLite ignores row
    locks, and a lease that expires also frees the lock of a worker that died holding it.
    """

    key = models.CharField(max_length=200, unique=True)
    holder = models.CharField(max_length=200, blank=True)
    acquired = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} ({self.holder or 'free'})"
