"""Shared API pieces: the exception handler that keeps error bodies uniform.

Every error body is ``{"detail": …, "error": <exception name>}`` (plus field errors for validation), and errors
that would otherwise surface as 500 get their honest status: 409 when the request collides with the stored data
(deleting what other objects still refer to; stored data breaking an invariant, see ``core.errors``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from souverain.core.errors import InconsistentData

# How many referring objects of one kind an error body names (the count is always complete).
REFERRERS_SHOWN = 10


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, (ProtectedError, RestrictedError)):
        objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        return referenced_response(objects)
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
    summary = "; ".join(f"{kind}: {', '.join(v['objects'])}{' …' if v['count'] > REFERRERS_SHOWN else ''}"
                        for kind, v in referenced_by.items())
    return Response({"detail": _("Still referred to by other objects (%(summary)s): remove or change those first.")
                     % {"summary": summary}, "error": "Referenced", "referenced_by": referenced_by},
                    status=status.HTTP_409_CONFLICT)
