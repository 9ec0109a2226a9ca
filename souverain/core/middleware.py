"""Request context (who acts, under which request id) and the portal's answer to inconsistent stored data.

Request ids: the server makes one for every request. A client's ``X-Request-Id`` is kept when it is a plain
token that fits the change log's column (``REQUEST_ID_PATTERN``), so a caller can follow its own id through the
change history; anything else (too long, spaces, control characters) is replaced by a server-made id rather
than overflow the column (a 500 on PostgreSQL) or be written to the logs as given.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .context import acting_as
from .errors import InconsistentData
from .models import REQUEST_ID_MAX_LENGTH

REQUEST_ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{REQUEST_ID_MAX_LENGTH - 1}}}")


def client_request_id(value: str | None) -> str | None:
    """The client's request id when it is acceptable as given, else None (the server makes one)."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return None


class RequestContextMiddleware:
    """Tags every change made during a request with its user and a request id (returned as a header)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        source = "api" if request.path.startswith("/api/") else "portal"
        with acting_as(username, source, client_request_id(request.headers.get("X-Request-Id"))) as actor:
            response = self.get_response(request)
        response["X-Request-Id"] = actor.request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Portal pages (the API has its exception handler): say what is wrong in the data, with 409."""
        if not isinstance(exception, InconsistentData):
            return None
        title = _("The estate data is inconsistent")
        advice = _("An operator must correct the data named above; until then this page cannot be computed.")
        body = format_html(
            '<!doctype html><html><head><meta charset="utf-8"><title>{}</title></head>'
            "<body><main><h1>{}</h1><p>{}</p><p>{}</p></main></body></html>",
            title, title, str(exception), advice,
        )
        return HttpResponse(body, status=exception.status_code, content_type="text/html; charset=utf-8")
