"""Request context (who acts, under which request id) and the portal's answer to inconsistent stored data.

Request ids: the server makes one for every request, and never takes the client's as its own (two callers
sending the same id would otherwise merge two requests in the change history and the audit trail). A client's
``X-Request-Id`` is kept beside it, in a field of its own, when it is a plain token that fits the column
(``REQUEST_ID_PATTERN``), so a caller can follow its own id through the change history; anything else (too long,
spaces, control characters) is dropped rather than overflow the column (a 500 on PostgreSQL) or be written to the
logs as given. The answer's ``X-Request-Id`` is the server's id.
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


def client_request_id(value: str | None) -> str:
    """The client's request id when it is acceptable as given, else empty."""
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return ""


class RequestContextMiddleware:
    """Tags every change made during a request with its user and a request id (returned as a header)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        username = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        source = "api" if request.path.startswith("/api/") else "portal"
        with acting_as(username, source,
                       client_request_id=client_request_id(request.headers.get("X-Request-Id"))) as actor:
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


class PasswordChangeRequiredMiddleware:
    """A user who must change their password (``core.auth.must_change_password``) sees only the password page in
    the portal (and may log out); the API answers them 403 from its authentication classes."""

    ALLOWED_PREFIXES = ("/password/", "/logout/", "/login/", "/static/", "/i18n/", "/api/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.shortcuts import redirect

        from .auth import must_change_password

        user = getattr(request, "user", None)
        if user is not None and not request.path.startswith(self.ALLOWED_PREFIXES) and must_change_password(user):
            return redirect("portal:password")  # which says why (portal.views.account)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set: a Content-Security-Policy (scripts and styles from our
    own origin only; the portal has no inline script nor style, HTMX reads its configuration from a meta tag and
injects no style) and a
    Permissions-Policy; and no ``Server`` header naming Python (Django's development server would send one)."""

    CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
           "frame-ancestors 'none'")
    # Swagger UI's page and DRF's browsable API carry a style element of their own (no script).
    CSP_API = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy",
                            self.CSP_API if request.path.startswith("/api/") else self.CSP)
        response.setdefault("Permissions-Policy", self.PERMISSIONS)
        # gunicorn says "gunicorn" alone; Django's development server (wsgiref) would say "WSGIServer/0.2
        # CPython/3.11.x" unless the answer carries its own.
        software = str(request.META.get("SERVER_SOFTWARE", ""))
        if software.startswith("WSGIServer") or "python" in software.lower():
            response["Server"] = "Souverain"
        return response
