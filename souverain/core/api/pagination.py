"""The API's limit/offset pagination, bounded.

``limit`` is capped at ``MAX_LIMIT`` (a larger value gets ``MAX_LIMIT`` rows, as DRF's ``max_limit`` does:
``limit=1000000000`` no longer returns every row in one response); ``offset`` above ``MAX_OFFSET`` is refused
with 400 rather than handed to the database, where it overflows SQLite's and PostgreSQL's integers (a 500).
Both bounds are in the OpenAPI schema. Clients page with ``next`` until it is null.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
# Far beyond any table of ours (a 64-bit database integer is ~9.2e18), far below what overflows.
MAX_OFFSET = 1_000_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_offset(self, request: Request) -> int:
        offset = super().get_offset(request)
        if offset > MAX_OFFSET:
            raise ValidationError({self.offset_query_param: [
                _("Ensure this value is less than or equal to %(maximum)d.") % {"maximum": MAX_OFFSET}]})
        return offset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                  self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET, "default": 0}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = _("Number of results to return per page (at most %(maximum)d).") % {
                    "maximum": MAX_LIMIT}
        return parameters
