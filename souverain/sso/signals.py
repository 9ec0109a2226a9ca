"""Logout: audited for everyone; after an SSO session, RP-initiated logout at the provider.

Django's ``LogoutView`` (the portal's ``logout/``) sends ``user_logged_out`` before it empties the session: the
receiver records ``auth.logout`` and, when the session came from the provider and the provider publishes an
``end_session_endpoint``, leaves that address on the request; ``middleware.ProviderLogoutMiddleware`` sends the
browser there instead of the local page (the provider then returns it to the login page).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.urls import reverse

from souverain.core import events

from . import client, config

SESSION_ID_TOKEN = "sso_id_token"


def _logged_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is None:
        return
    id_token = request.session.get(SESSION_ID_TOKEN) if request is not None else None
    events.emit("auth.logout", object_type="auth.user", object_id=str(user.pk), object_repr=user.get_username(),
                username=user.get_username(), data={"sso": bool(id_token)})
    if not id_token or not config.enabled():
        return
    try:
        endpoint = client.metadata().get("end_session_endpoint")
    except Exception:  # noqa: BLE001 - the provider down must not stop a local logout
        endpoint = None
    if endpoint:
        request._sso_logout_url = endpoint + "?" + urlencode({
            "id_token_hint": id_token, "client_id": settings.SOUVERAIN_OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login"))})


def connect() -> None:
    user_logged_out.connect(_logged_out, dispatch_uid="sso:logout")
