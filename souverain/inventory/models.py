"""The inventory: every resource of every cloud in one table, its history, and how fresh each part is.

One ``Resource`` table for all kinds (servers, volumes, ports, quotas...) rather than a model per kind:
the filters people use (cloud, region, tenant, kind, status, tag, name) are the same for all, so one
table with a few composite indexes answers a filtered page out of a million rows, and one bulk write
path serves every kind. What is specific to a kind stays in ``attrs``, the API's own JSON.

Inventory rows are written by the sync engine in bulk and are not ``ChangeLoggedModel``s: their history
is ``ResourceChange``, written in the same bulk transactions, one row per detected change with only the
keys that changed.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from souverain.core.models import ChangeLoggedModel
from souverain.estate.models import Cloud, Region
from souverain.tenancy.models import Tenant

from . import kinds
from .natural import MAX_LENGTH, natural_key


class NaturalSortKeyField(models.CharField):
    """``natural_key`` of another field (``source``), computed whenever a row is written through the ORM: save,
    create and bulk_create all call ``pre_save``. The sync engine's own bulk writes compute it themselves
    (``services._apply_page``). Stored, so that ordering by it is an index walk rather than a sort."""

    def __init__(self, *args: Any, source: str = "name", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", MAX_LENGTH)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = natural_key(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


class ProjectMapping(ChangeLoggedModel):
    """Which Souverain tenant owns a cloud project: what tenant users' view of the inventory rests on."""

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="project_mappings")
    project_id = models.CharField(max_length=64, help_text=_("The project's id in the cloud (Keystone)"))
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="project_mappings")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["cloud__slug", "project_id"]
        constraints = [models.UniqueConstraint(fields=["cloud", "project_id"], name="unique_project_mapping")]

    def __str__(self) -> str:
        return f"{self.cloud.slug}:{self.project_id} → {self.tenant.slug}"


def validate_kind(value: str) -> None:
    """A kind of the registry (``connectors.kinds``): checked here rather than by database choices, so a new kind
    needs no migration."""
    from django.core.exceptions import ValidationError

    try:
        kinds.kind(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid_kind") from None


class Resource(models.Model):
    kind = models.CharField(max_length=32, validators=[validate_kind])
    # No single-column indexes on cloud and tenant: the composite indexes below start with them.
    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="resources", db_index=False)
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="resources")
    project_id = models.CharField(max_length=64, blank=True, help_text=_("The cloud project owning it"))
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources",
                               db_index=False)
    external_id = models.CharField(max_length=255, help_text=_("The cloud's own id"))
    name = models.CharField(max_length=255, blank=True)
    # Natural order (web-2 before web-10) of the name: what lists sort by (see natural.py).
    name_sort = NaturalSortKeyField(source="name")
    status = models.CharField(max_length=40, blank=True, help_text=_("The cloud's status, lower case"))
    attrs = models.JSONField(default=dict, help_text=_("The API's own representation, as last seen"))
    # The connector's normalised attributes beyond the columns (zone, size, addresses, flavor, vcpus, ram, labels,
    # created, updated: connectors.kinds), the same keys for every provider.
    normalised = models.JSONField(default=dict, blank=True,
                                  help_text=_("Normalised attributes: zone, size, addresses, flavor, labels..."))
    attrs_hash = models.CharField(max_length=32, help_text=_("Hash of attrs: unchanged objects are not rewritten"))
    tags = models.JSONField(default=list, blank=True)
    managed = models.BooleanField(default=False, help_text=_("Created by Souverain; False: discovered outside it"))
    first_seen = models.DateTimeField()
    # last_seen and last_sync change at every sync: left unindexed so that those updates stay cheap
    # (PostgreSQL updates rows in place, "HOT", only when no indexed column changes).
    last_seen = models.DateTimeField()
    gone_at = models.DateTimeField(null=True, blank=True, help_text=_("When a sync found it vanished"))
    last_sync = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                  db_index=False)

    class Meta:
        ordering = ["name_sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cloud", "region", "kind", "external_id"], name="inventory_resource_id"),
        ]
        indexes = [
            models.Index(fields=["cloud", "status"], name="inv_resource_cloud_status"),
            models.Index(fields=["tenant", "kind"], name="inv_resource_tenant_kind"),
            models.Index(fields=["kind", "status"], name="inv_resource_kind_status"),
            models.Index(fields=["cloud", "project_id"], name="inv_resource_cloud_project"),
            # "Find it by the cloud's id", alone or OR-ed with the name search of ``?q=``.
            models.Index(fields=["external_id"], name="inv_resource_external_id"),
            # Name search: prefix and ordering here; PostgreSQL also gets a trigram index for
            # "contains" searches (migration 0002), which SQLite cannot have.
            models.Index(Lower("name"), name="inv_resource_lower_name"),
            # Lists in natural name order: the first page is an index walk (PostgreSQL: "C" collation, 0007).
            models.Index(fields=["name_sort", "id"], name="inv_resource_name_sort"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name or self.external_id}"

    def get_kind_display(self) -> str:
        return kinds.label(self.kind)

    @property
    def is_gone(self) -> bool:
        return self.gone_at is not None


class ResourceChange(models.Model):
    class Action(models.TextChoices):
        CREATED = "created", _("Discovered")
        UPDATED = "updated", _("Changed")
        GONE = "gone", _("Vanished")
        REAPPEARED = "reappeared", _("Reappeared")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="changes")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    time = models.DateTimeField()
    action = models.CharField(max_length=12, choices=Action.choices)
    # {"<top-level key of attrs>": {"before": ..., "after": ...}} for the keys that changed, and only those.
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["resource", "time"], name="inv_change_resource_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.resource_id} at {self.time:%Y-%m-%d %H:%M:%S}"


class SyncState(models.Model):
    """How fresh one kind of one region is: the watermark of incremental syncs, and the last error."""

    class Status(models.TextChoices):
        NEVER = "never", _("Never synced")
        OK = "ok", _("Fresh")
        STALE = "stale", _("Stale: the last sync failed, the last known state is kept")
        UNSUPPORTED = "unsupported", _("Not offered by this cloud")

    cloud = models.ForeignKey(Cloud, on_delete=models.CASCADE, related_name="sync_states")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="sync_states")
    kind = models.CharField(max_length=32, validators=[validate_kind])
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEVER)
    error = models.TextField(blank=True)
    last_attempt = models.DateTimeField(null=True, blank=True)
    # When the last successful listing *started*: the next incremental sync asks for changes since then.
    last_success = models.DateTimeField(null=True, blank=True)
    # When the last complete listing started: deletions are reconciled up to then.
    last_full = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # False once the cloud refused this kind's "changed since" filter (e.g. Neutron without its timestamp
    # plugin): incremental syncs then list the kind whole. Forgotten at each full sync, so it is probed again.
    time_filter = models.BooleanField(null=True, blank=True)
    resource_count = models.PositiveIntegerField(default=0)
    duration = models.FloatField(null=True, blank=True, help_text=_("Seconds the last sync of this part took"))

    class Meta:
        ordering = ["cloud__slug", "region__slug", "kind"]
        constraints = [models.UniqueConstraint(fields=["cloud", "region", "kind"], name="unique_sync_state")]

    def __str__(self) -> str:
        return f"{self.region}/{self.kind}: {self.status}"

    def get_kind_display(self) -> str:
        return kinds.label(self.kind)
