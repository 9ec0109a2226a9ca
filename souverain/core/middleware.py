from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import acting_as


class RequestContextMiddleware:
    """Tags every change made during a request with its user and a request id (returned as a header)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        source = "api" if request.path.startswith("/api/") else "portal"
        with acting_as(username, source, request.headers.get("X-Request-Id")) as actor:
            response = self.get_response(request)
        response["X-Request-Id"] = actor.request_id
        return response
