from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect


class ProviderLogoutMiddleware:
    """After a logout of an SSO session, redirect to the provider's end-session endpoint (see signals.py)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        target = getattr(request, "_sso_logout_url", None)
        if target and 300 <= response.status_code < 400:
            return HttpResponseRedirect(target)
        return response
