"""Shared API pieces: the exception handler that keeps error bodies uniform.

Every error body is ``{"detail": …, "error": <exception name>}`` (plus field errors for validation), and errors
that would otherwise surface as 500 get their honest status: 409 when the request collides with the stored data
(deleting what other objects still refer to; stored data breaking an invariant, see ``core.errors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Model, ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from souverain.core.errors import InconsistentData

# How many referring objects of one kind an error body names (the count is always complete).
REFERRERS_SHOWN = 10


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, (ProtectedError, RestrictedError)):
        objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        return referenced_response(objects)
    if isinstance(exc, StillReferenced):
        return Response(exc.body, status=exc.status_code)
    if isinstance(exc, InconsistentData):
        return Response({"detail": str(exc), "error": type(exc).__name__, **exc.details}, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data.setdefault("error", type(exc).__name__)
    return response


def referenced_response(objects: Iterable[Any]) -> Response:
    """409 naming what still refers to the object (by kind: how many, and the first few by name)."""
    by_kind: dict[str, list[str]] = {}
    for obj in objects:
        by_kind.setdefault(str(obj._meta.verbose_name_plural), []).append(str(obj))
    referenced_by = {kind: {"count": len(names), "objects": sorted(names)[:REFERRERS_SHOWN]}
                     for kind, names in sorted(by_kind.items())}
    return Response(_referenced_body(referenced_by), status=status.HTTP_409_CONFLICT)


def _referenced_body(referenced_by: dict[str, dict[str, Any]]) -> dict[str, Any]:
    summary = "; ".join(f"{kind}: {', '.join(v['objects'])}{' …' if v['count'] > len(v['objects']) else ''}"
                        for kind, v in referenced_by.items())
    return {"detail": _("Still referred to by other objects (%(summary)s): remove or change those first.")
            % {"summary": summary}, "error": "Referenced", "referenced_by": referenced_by}


class StillReferenced(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "referenced"

    def __init__(self, referenced_by: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.body = _referenced_body(referenced_by)


def refuse_delete_while_referenced(instance: Model) -> None:
    """Raise 409 when any row refers to ``instance`` (foreign key or many-to-many, whatever its ``on_delete``).

    For objects whose deletion would otherwise cascade or orphan silently (a tenant's memberships, mappings,
    resources): the caller removes or reassigns those first, knowingly."""
    referenced_by: dict[str, dict[str, Any]] = {}
    for relation in instance._meta.related_objects:
        rows = relation.related_model._base_manager.filter(**{relation.field.name: instance})
        count = rows.count()
        if count:
            names = sorted(str(obj) for obj in rows[:REFERRERS_SHOWN])
            kind = str(relation.related_model._meta.verbose_name_plural)
            referenced_by[kind] = {"count": count, "objects": names}
    if referenced_by:
        raise StillReferenced(dict(sorted(referenced_by.items())))


def _holds_nul(value: Any, depth: int = 0) -> bool:
    """Whether a request value holds a NUL character in any string, keys included (bounded depth: the parsers
    already bound the body's size)."""
    if isinstance(value, str):
        return "\x00" in value
    if depth > 32:
        return False
    if isinstance(value, dict):
        return any(_holds_nul(key, depth + 1) or _holds_nul(item, depth + 1) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item, depth + 1) for item in value)
    return False


class RejectUnknownFieldsMixin:
    """For writable serializers: a field the serializer does not know is an error (400 naming it), not ignored.

    Read-only fields are known: a client may send back what it read (``id``, computed fields), DRF ignores them.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))  # type: ignore[attr-defined]
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
            # A NUL character reaches PostgreSQL through fields that have no validator for it (a slug looked up by
            # SlugRelatedField, JSON) and PostgreSQL refuses it with an error, a 500 (found by schemathesis on
            # POST /api/clouds/ dedicated_to): refused here, for every writable serializer, naming the field.
            with_nul = sorted(name for name, item in data.items() if _holds_nul(item))
            if with_nul:
                raise serializers.ValidationError({name: [_("Null characters are not allowed.")] for name in with_nul})
        value = super().to_internal_value(data)  # type: ignore[misc]
        # A form or multipart body carries JSON as text: DRF parses "null" into None after its own null check, and
        # the database's NOT NULL then answered 500 (found by schemathesis on POST /api/tenants/).
        nulls = sorted(name for name, field in self.fields.items()  # type: ignore[attr-defined]
                       if isinstance(field, serializers.JSONField) and not field.allow_null and not field.read_only
                       and isinstance(value, dict) and field.source in value and value[field.source] is None)
        if nulls:
            raise serializers.ValidationError({name: [_("This field may not be null.")] for name in nulls})
        return value
