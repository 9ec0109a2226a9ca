"""CSV for the API's exports: one renderer (so ``?format=csv`` is accepted and errors still render) and one
streaming response (every matching row, memory flat: rows are written in batches into a reused buffer).

List views that export call ``csv_response`` themselves; the renderer only renders what is not a stream (error
bodies, a single row). Both the inventory export and the change history's use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework import renderers

#: Rows written before the buffer is handed to the client: large enough to keep the per-chunk cost low, small
#: enough that the first bytes leave at once.
ROWS_PER_CHUNK = 500


class CSVRenderer(renderers.BaseRenderer):
    """Selected by ``?format=csv`` (or ``Accept: text/csv``)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        rows = data.get("results", [data]) if isinstance(data, dict) else list(data or [])
        out = io.StringIO()
        if rows and isinstance(rows[0], dict):
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue().encode()


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
