"""Limit/offset pagination that reads the page and its total in one query.

DRF's ``LimitOffsetPagination`` runs ``COUNT(*)`` and then the page: on a million resources, a search that
matches thousands of them visits those rows twice. Here the page query carries ``COUNT(*) OVER ()``, so the
rows are visited once; only a page past the end needs a separate count. Same parameters, bounds (the project's
``BoundedLimitOffsetPagination``) and response.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Window
from rest_framework.request import Request

from souverain.core.api.pagination import BoundedLimitOffsetPagination

TOTAL = "_souverain_total"


class OneQueryLimitOffsetPagination(BoundedLimitOffsetPagination):
    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list[Any] | None:
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        page = list(queryset.annotate(**{TOTAL: Window(Count("*"))})[self.offset:self.offset + self.limit])
        if page:
            self.count = getattr(page[0], TOTAL)
        else:
            self.count = self.get_count(queryset) if self.offset else 0
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        return page
