"""Pagination of the big lists (inventory resources, compliance violations): a capped count and keyset pages.

Two costs made the unfiltered first page of a million resources take seconds on PostgreSQL: the exact total
(``COUNT(*)``, or ``COUNT(*) OVER ()`` which builds the whole set and spills it to disk) and deep offsets (the
database walks and drops every skipped row). Here:

- **The total is counted up to a cap** (``SOUVERAIN_API_COUNT_CAP``, 10 000 like the portal's tables):
  ``SELECT COUNT(*) FROM (… LIMIT cap + 1)`` stops after cap + 1 rows. Below the cap ``count`` is exact and
  ``count_capped`` false; above it ``count`` is the cap and ``count_capped`` true ("more than 10 000"). A page
  that ends the list gives its total without a count query at all. Nobody reads a total of 873 412 — they
  narrow the filters or export (``?format=csv``).
- **Whether there is a next page** comes from reading ``limit + 1`` rows, never from the total.
- **Keyset pages** (``?cursor=``): every response carries ``next_cursor``, a signed token holding the ordering
  and the last row's sort values; ``?cursor=TOKEN`` continues right after that row with
  ``WHERE (name_sort, id) > (…)`` — an index walk from that point, the same cost at row 10 and at row 900 000,
  and rows inserted or deleted meanwhile neither repeat nor shift a page. ``?cursor=`` (empty) starts a walk
  from the first page, and ``next`` then links cursors. ``limit``/``offset`` keep working for existing clients
  (``offset`` with ``cursor`` is refused). Cursors are signed (Django's signing with the secret key): a client
  cannot forge one into a malformed query, and a cursor only positions the walk — the queryset it applies to is
  already filtered and tenant-scoped by the view.
- **Every ordering ends with the id**, so pages never overlap nor skip rows with equal sort values. Keyset walks
  need orderings on the model's own non-null columns (a null has no place in ``>``); other orderings still page
  by offset, and a cursor with them is a 400 naming the orderings that can.

With the default ordering (``name_sort, id``, index ``inv_resource_name_sort``) the first page is an index walk
that stops after ``limit + 1`` present rows. Same bounds as the project's ``BoundedLimitOffsetPagination``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from souverain.core.api.pagination import BoundedLimitOffsetPagination

DEFAULT_COUNT_CAP = 10_000
CURSOR_SALT = "souverain.api.cursor"


def count_cap() -> int:
    return int(getattr(settings, "SOUVERAIN_API_COUNT_CAP", DEFAULT_COUNT_CAP))


def _ordering_of(queryset: QuerySet) -> list[str]:
    """The queryset's ordering as field names (``-`` for descending), ended by the id for a total order."""
    ordering = [str(field) for field in (queryset.query.order_by or queryset.model._meta.ordering or [])]
    ordering = ["id" if field == "pk" else "-id" if field == "-pk" else field for field in ordering]
    if not any(field.lstrip("-") == "id" for field in ordering):
        ordering.append("-id" if ordering and ordering[0].startswith("-") else "id")
    return ordering


def _keyset_field(model: type[Model], name: str) -> bool:
    """Whether a keyset can compare on this ordering field: a local, non-null column of the model."""
    if "__" in name:
        return False
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - an ordering by an annotation or an unknown name: no keyset on it
        return False
    return getattr(field, "concrete", False) and not field.null and not field.is_relation


def _after(ordering: list[str], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in ``ordering``: the lexicographic comparison spelt with plain lookups
    (f1 > v1, or f1 = v1 and f2 > v2, …), led by ``f1 >= v1`` which an index on the ordering can range-scan."""
    names = [field.lstrip("-") for field in ordering]
    strict = ["lt" if field.startswith("-") else "gt" for field in ordering]
    after = Q()
    for position in range(len(ordering)):
        equal = {names[i]: values[i] for i in range(position)}
        after |= Q(**equal, **{f"{names[position]}__{strict[position]}": values[position]})
    lead = "lte" if ordering[0].startswith("-") else "gte"
    return Q(**{f"{names[0]}__{lead}": values[0]}) & after


class CappedCountPagination(BoundedLimitOffsetPagination):
    """``limit``/``offset`` or ``cursor`` pages with a total counted up to a cap (see the module's note)."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any] | None:
        self.request = request
        self.view = view
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.model = queryset.model
        self.ordering = _ordering_of(queryset)
        queryset = queryset.order_by(*self.ordering)
        self.keyset = all(_keyset_field(self.model, field.lstrip("-")) for field in self.ordering)
        self.cursor_mode = self.cursor_query_param in request.query_params
        self.offset = 0
        page_queryset = queryset
        if self.cursor_mode:
            if self.offset_query_param in request.query_params:
                raise ValidationError({self.cursor_query_param: [_("A cursor cannot be combined with an offset.")]})
            values = self._decode(request.query_params[self.cursor_query_param])
            if values is not None:
                page_queryset = queryset.filter(_after(self.ordering, values))
        else:
            self.offset = self.get_offset(request)
        rows = list(page_queryset[self.offset:self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        page = rows[:self.limit]
        self.next_cursor = self._encode(page[-1]) if self.has_next and self.keyset else None
        self.count, self.count_capped = self._count(queryset, page)
        if self.template is not None and not self.cursor_mode and (self.has_next or self.offset):
            self.display_page_controls = True
        return page

    def _count(self, queryset: QuerySet, page: list[Any]) -> tuple[int, bool]:
        cap = count_cap()
        if not self.cursor_mode and not self.has_next and (page or not self.offset):
            return self.offset + len(page), False  # this page ends the list: its exact total costs no query
        found = queryset.order_by()[:cap + 1].count()
        return min(found, cap), found > cap

    def _encode(self, row: Model) -> str:
        values = [getattr(row, field.lstrip("-")) for field in self.ordering]
        return signing.dumps([self.ordering, [self._plain(value) for value in values]], salt=CURSOR_SALT,
                             compress=True)

    @staticmethod
    def _plain(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value

    def _decode(self, token: str) -> list[Any] | None:
        """The sort values a cursor holds (None: start of the walk); 400 for a cursor this list cannot use."""
        if not self.keyset:
            raise ValidationError({self.cursor_query_param: [
                _("Cursor pages need an ordering on plain columns: order by %(fields)s, or page with offset.")
                % {"fields": ", ".join(self.keyset_orderings())}]})
        if not token:
            return None
        try:
            ordering, values = signing.loads(token, salt=CURSOR_SALT)
        except (signing.BadSignature, ValueError, TypeError):
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]}) from None
        if ordering != self.ordering:
            raise ValidationError({self.cursor_query_param: [
                _("This cursor was made for another ordering (%(ordering)s).") % {"ordering": ",".join(ordering)}]})
        fields = [self.model_field(field) for field in ordering]
        return [field.to_python(value) for field, value in zip(fields, values, strict=True)]

    def model_field(self, ordering_field: str) -> Any:
        return self.model._meta.get_field(ordering_field.lstrip("-"))

    def keyset_orderings(self) -> list[str]:
        fields = getattr(self.view, "ordering_fields", None) or []
        return [field for field in fields if _keyset_field(self.model, field)] or ["id"]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        if self.cursor_mode:
            return replace_query_param(url, self.cursor_query_param, self.next_cursor or "")
        url = replace_query_param(url, self.limit_query_param, self.limit)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_previous_link(self) -> str | None:
        if self.cursor_mode:
            return None  # keyset walks go forward; start again with ?cursor= for the first page
        return super().get_previous_link()

    def get_paginated_response(self, data: Any) -> Response:
        return Response(OrderedDict([
            ("count", self.count),
            ("count_capped", self.count_capped),
            ("next", self.get_next_link()),
            ("previous", self.get_previous_link()),
            ("next_cursor", self.next_cursor),
            ("results", data),
        ]))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        properties = response["properties"]
        properties["count"]["description"] = _(
            "Number of matching rows, counted up to a cap: when count_capped is true there are more than count.")
        properties["count_capped"] = {"type": "boolean", "example": False, "description": _(
            "True when more rows match than the counting cap (count then gives the cap).")}
        properties["next_cursor"] = {"type": "string", "nullable": True, "description": _(
            "Pass as ?cursor= for the rows after this page (keyset pages); null on the last page.")}
        response["required"] = ["count", "count_capped", "next", "previous", "next_cursor", "results"]
        return response

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        parameters.append({
            "name": self.cursor_query_param, "required": False, "in": "query",
            "description": _("Keyset pages: a next_cursor of a previous response, or empty for the first page "
                             "(not with offset)."),
            "schema": {"type": "string"},
        })
        return parameters
