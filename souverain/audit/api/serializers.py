from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from ..models import AuditCheckpoint, AuditRecord


class AuditRecordSerializer(serializers.ModelSerializer):
    data = serializers.SerializerMethodField()

    class Meta:
        model = AuditRecord
        fields = ["seq", "time", "username", "source", "request_id", "action", "object_type", "object_id",
                  "object_repr", "data", "prev_hash", "hash"]
        read_only_fields = fields

    def get_data(self, record: AuditRecord) -> dict[str, Any]:
        return json.loads(record.data)


class AuditCheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditCheckpoint
        fields = ["number", "time", "first_seq", "last_seq", "count", "first_time", "last_time", "head_hash",
                  "prev_hash", "key_id", "signature", "hash"]
        read_only_fields = fields
