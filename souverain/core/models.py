"""Change logging: every model that inherits ChangeLoggedModel records before/after snapshots."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

# A request id as the change log stores it; longer ids from a client are replaced (see core.middleware).
REQUEST_ID_MAX_LENGTH = 64


class ChangeLoggedModel(models.Model):
    created = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)

    # Fields never copied into the change log (secrets, bulky or derived data).
    changelog_exclude: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def snapshot(self) -> dict[str, Any]:
        data = model_to_dict(self, exclude=["id", *self.changelog_exclude])
        # Many-to-many fields come back as model instances: keep their primary keys, sorted, for stable diffs.
        return {
            k: sorted(getattr(i, "pk", i) for i in v) if isinstance(v, (list, set, tuple)) else v
            for k, v in data.items()
        }


class ObjectChange(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150, blank=True)
    request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH, blank=True, db_index=True)
    source = models.CharField(max_length=16, blank=True)
    action = models.CharField(max_length=8, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64, db_index=True)
    object_repr = models.CharField(max_length=200)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Ids also come from jobs and the CLI: never let one overflow its column (a 500 on PostgreSQL).
        self.request_id = (self.request_id or "")[:REQUEST_ID_MAX_LENGTH]
        self.object_repr = (self.object_repr or "")[:200]
        super().save(*args, **kwargs)

    @property
    def changed_fields(self) -> list[str]:
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
