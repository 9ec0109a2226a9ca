"""The SSO routes: start the login, the provider's callback, the refusal page.

Public routes (like ``login/``): each either redirects to the provider or ends in a login or a refusal.
A refusal (claims matching no rule, a rule naming an unknown tenant) is a 403 page in the reader's language,
audited, with nothing created; a failed exchange (bad state, provider error) is a 400 page saying to try again.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from . import client, config, services

BACKEND = "souverain.core.auth.ThrottledModelBackend"
SESSION_ID_TOKEN = "sso_id_token"
SESSION_NEXT = "sso_next"


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()) else "/"


def start(request: HttpRequest) -> HttpResponse:
    if not config.enabled():
        raise Http404("single sign-on is not configured")
    request.session[SESSION_NEXT] = _safe_next(request)
    return client.client().authorize_redirect(request, request.build_absolute_uri(reverse("sso:callback")))


def callback(request: HttpRequest) -> HttpResponse:
    if not config.enabled():
        raise Http404("single sign-on is not configured")
    provider = client.client()
    try:
        token = provider.authorize_access_token(request)
    except OAuthError as error:
        return render(request, "sso/failed.html", {"error": error.error}, status=400)
    claims: dict[str, Any] = dict(token.get("userinfo") or {})
    try:
        claims.update({k: v for k, v in dict(provider.userinfo(token=token)).items() if k != "sub"})
    except Exception:  # noqa: BLE001 - the ID token's claims are enough; userinfo only adds to them
        pass
    decision = services.resolve(claims)
    if decision.refusal:
        services.refuse(claims, decision, source="portal")
        return render(request, "sso/refused.html", {"email": claims.get("email") or claims.get("sub"),
                                                   "reason": decision.refusal}, status=403)
    user = services.provision(claims, decision, source="portal")
    target = request.session.pop(SESSION_NEXT, "/")
    login(request, user, backend=BACKEND)  # user_logged_in → the audit's auth.login record
    request.session[SESSION_ID_TOKEN] = token.get("id_token", "")
    return redirect(target)
