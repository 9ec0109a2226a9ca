from __future__ import annotations

from typing import Any

from django.shortcuts import render


class ProviderLogoutMiddleware:
    """After the logout of an SSO session, send the browser to the provider's end-session endpoint (signals.py).

    By a page that refreshes to it, not a redirect: the logout is a form POST, and the portal's CSP
    ``form-action 'self'`` forbids a form submission's redirect chain to leave the site (Chromium blocks it).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        response = self.get_response(request)
        target = getattr(request, "_sso_logout_url", None)
        if target and 300 <= response.status_code < 400:
            return render(request, "sso/logout.html", {"target": target})
        return response
