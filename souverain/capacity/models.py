"""Capacity snapshots: what each region had (allocatable, used, free vCPU, RAM, disk) at each sync, kept as history.

One ``CapacitySnapshot`` per region per capacity sync: when, by which job, whether the cloud answered (an error is
kept too, so "capacity unknown since ..." can be said), and the providers as the connector reported them (what
``fits`` reads to tell whether N servers of a size fit, provider by provider). One ``CapacityFigure`` per
snapshot, zone ("" for the whole region) and resource class: the sums the pages, the API and the history chart
read. The latest view is the newest successful snapshot of each region.

Plain models, not change-logged: a sync is measured data, not a change to the estate (a change-logged write would
also move the estate's version and throw away placement's decision caches at every sync).
"""

from __future__ import annotations

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB")


class CapacitySnapshot(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("Measured")
        FAILED = "failed", _("Failed")
        UNSUPPORTED = "unsupported", _("Not reported by this cloud")

    region = models.ForeignKey("estate.Region", on_delete=models.CASCADE, related_name="capacity_snapshots")
    taken_at = models.DateTimeField(db_index=True)
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    error = models.CharField(max_length=500, blank=True)
    providers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-taken_at", "-pk"]
        indexes = [models.Index(fields=["region", "-taken_at"], name="capacity_snap_region_time")]

    def __str__(self) -> str:
        return f"{self.region} @ {self.taken_at:%Y-%m-%d %H:%M}"

    @classmethod
    def latest(cls) -> QuerySet[CapacitySnapshot]:
        """The newest measured snapshot of each region (lazy: a correlated subquery, nothing runs until read)."""
        newest = cls.objects.filter(region=OuterRef("region"), status=cls.Status.OK).order_by("-taken_at", "-pk")
        return cls.objects.filter(status=cls.Status.OK, pk=Subquery(newest.values("pk")[:1]))


class CapacityFigure(models.Model):
    snapshot = models.ForeignKey(CapacitySnapshot, on_delete=models.CASCADE, related_name="figures")
    # Copied from the snapshot so that the history is filtered and ordered without a join.
    region = models.ForeignKey("estate.Region", on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField()
    zone = models.CharField(max_length=255, blank=True, help_text=_("Availability zone; empty: the whole region"))
    resource_class = models.CharField(max_length=64)
    total = models.BigIntegerField()
    reserved = models.BigIntegerField()
    allocatable = models.BigIntegerField()
    used = models.BigIntegerField()
    free = models.BigIntegerField()
    largest_free = models.BigIntegerField(default=0, help_text=_("Most free on one provider"))
    providers = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["taken_at", "zone", "resource_class"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "zone", "resource_class"],
                                               name="unique_capacity_figure")]
        indexes = [models.Index(fields=["region", "zone", "resource_class", "taken_at"],
                                name="capacity_figure_series")]

    def __str__(self) -> str:
        where = f"{self.region}:{self.zone}" if self.zone else str(self.region)
        return f"{where} {self.resource_class} {self.free}/{self.allocatable}"
