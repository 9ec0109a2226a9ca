from __future__ import annotations

from typing import Any

from rest_framework import serializers

from souverain.core.api import RejectUnknownFieldsMixin

from .. import registry
from ..models import Job


class JobSerializer(RejectUnknownFieldsMixin, serializers.ModelSerializer):
    duration = serializers.SerializerMethodField(help_text="Seconds, so far when still running")
    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True,
                                          help_text="The tenant whose objects the job is about; null: estate-wide")

    class Meta:
        model = Job
        fields = ["id", "kind", "params", "status", "requested_by", "created", "started", "finished", "duration",
                  "worker", "attempts", "progress", "message", "counts", "errors", "detail", "tenant"]
        read_only_fields = [f for f in fields if f not in ("kind", "params")]

    def get_duration(self, job: Job) -> float | None:
        duration = job.duration
        return round(duration.total_seconds(), 3) if duration is not None else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            job_type = registry.get(attrs["kind"])
        except ValueError as exc:
            raise serializers.ValidationError({"kind": str(exc)})
        params = attrs.get("params") or {}
        if not isinstance(params, dict):
            raise serializers.ValidationError({"params": "must be an object"})
        try:
            attrs["params"] = job_type.validate(params) if job_type.validate else params
        except ValueError as exc:
            raise serializers.ValidationError({"params": str(exc)})
        return attrs
