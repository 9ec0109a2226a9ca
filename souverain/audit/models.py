"""The audit trail's two tables: records (append-only, hash-chained) and signed checkpoints.

Both are written only by ``souverain.audit.services``; the models refuse an update or a delete through the ORM.
That keeps honest code honest; what detects a dishonest administrator with SQL access is ``verify``.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from souverain.core.models import REQUEST_ID_MAX_LENGTH


class AppendOnly(Exception):
    pass


class AppendOnlyModel(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly(f"{type(self).__name__} {self.pk} is append-only: it cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly(f"{type(self).__name__} {self.pk} is append-only: it cannot be deleted")


class AuditRecord(AppendOnlyModel):
    seq = models.BigIntegerField(unique=True)
    time = models.DateTimeField(db_index=True)
    username = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=16, blank=True)  # api, portal, cli, job, system
    request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # Canonical JSON text (chain.canonical_json), not a JSON column: PostgreSQL's jsonb would rewrite numbers and
    # key order, and the hash is over these exact bytes.
    data = models.TextField(default="{}")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    @property
    def data_json(self) -> dict[str, Any]:
        return json.loads(self.data)


class AuditCheckpoint(AppendOnlyModel):
    number = models.BigIntegerField(unique=True)
    time = models.DateTimeField()
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    count = models.BigIntegerField()
    first_time = models.CharField(max_length=32, blank=True)  # as in the records' canonical form
    last_time = models.CharField(max_length=32, blank=True)
    head_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=128)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"checkpoint #{self.number} (seq {self.first_seq}..{self.last_seq})"
