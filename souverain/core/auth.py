"""Authentication: the API's token and session checks, login throttling, and the forced password change.

- ``ThrottledModelBackend`` (``AUTHENTICATION_BACKENDS``): Django's password check, refused while the account or
  the address is throttled (``core.throttle``), whatever the way in.
- ``ThrottledAuthenticationForm``: the portal's login form, which says *why* it refuses a throttled login
  (the backend alone could only say "wrong password").
- ``ApiTokenAuthentication``: ``Authorization: Token <secret>`` (or ``Bearer``) against ``core.tokens``; a
  revoked or expired token is a 401 saying so, a read-only token used to write a 403 saying so.
- ``must_change_password``: a user flagged by ``PasswordChangeRequired`` (the initial admin with a printed
  one-time password) gets 403 from the API with the reason, and is sent to the password page by the portal
  (``core.middleware.PasswordChangeRequiredMiddleware``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import user_logged_in, user_login_failed
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from . import events, throttle, tokens
from .models import ApiToken, PasswordChangeRequired

PASSWORD_PAGE = "/password/"


def must_change_password(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_souverain_must_change_password", None)
    if cached is None:
        cached = PasswordChangeRequired.objects.filter(user_id=user.pk).exists()
        user._souverain_must_change_password = cached
    return cached


def require_password_change(user: Any) -> None:
    PasswordChangeRequired.objects.get_or_create(user=user)
    user._souverain_must_change_password = True


def password_changed(user: Any) -> None:
    PasswordChangeRequired.objects.filter(user_id=user.pk).delete()
    user._souverain_must_change_password = False


def password_change_message() -> str:
    return _("You must change your password before using Souverain: open the portal's password page (%(page)s).") % {
        "page": PASSWORD_PAGE}


def throttled_message(seconds: int) -> str:
    return _("Too many failed logins for this account or from this address. Try again in %(minutes)d minute(s).") % {
        "minutes": throttle.minutes(seconds)}


def refuse_if_throttled(username: str, request: Any) -> int:
    """Seconds to wait when this login attempt is throttled (and the refusal audited and counted), else 0."""
    address = throttle.address_of(request)
    wait = throttle.blocked(username or "", address)
    if wait:
        events.emit("auth.login_throttled", object_type="auth.user", object_repr=(username or "")[:200],
                    username=(username or "")[:150], data={"address": address, "retry_after": wait,
                                                          "path": getattr(request, "path", "")[:500]})
    return wait


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> Any:
        if username is None:
            username = kwargs.get("username") or ""
        if getattr(request, "_souverain_throttle_checked", False) is False and \
                throttle.blocked(username or "", throttle.address_of(request)):
            # Django's authenticate() turns this into a failed login (signal sent, None returned).
            raise DjangoPermissionDenied("throttled")
        return super().authenticate(request, username=username, password=password, **kwargs)


class ThrottledAuthenticationForm(AuthenticationForm):
    throttled = False  # the login page shows the throttling message rather than "wrong password"

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        wait = refuse_if_throttled(username, self.request)
        if wait:
            throttle.record_failure(username, throttle.address_of(self.request))
            self.throttled = True
            raise forms.ValidationError(throttled_message(wait), code="throttled")
        if self.request is not None:
            self.request._souverain_throttle_checked = True
        return super().clean()


def _on_login_failed(sender: Any, credentials: dict[str, Any] | None = None, request: Any = None,
                     **kwargs: Any) -> None:
    throttle.record_failure(str((credentials or {}).get("username") or ""), throttle.address_of(request))


def _on_login(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    throttle.forget(user.get_username())


def connect() -> None:
    user_login_failed.connect(_on_login_failed, dispatch_uid="core:throttle_failure")
    user_logged_in.connect(_on_login, dispatch_uid="core:throttle_success")


class ApiTokenAuthentication(BaseAuthentication):
    keywords = (b"token", b"bearer")

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: give one token after the keyword."))
        try:
            secret = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = tokens.find(secret)
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked; log in again."))
        if token.expires <= timezone.now():
            raise exceptions.AuthenticationFailed(_("This token has expired; log in again."))
        if token.scope == ApiToken.Scope.READ and request.method not in SAFE_METHODS:
            raise exceptions.PermissionDenied(_("This token is read-only: it cannot change anything."))
        if must_change_password(token.user):
            raise exceptions.PermissionDenied(password_change_message())
        tokens.touch(token)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return "Token"


class PasswordCheckedSessionAuthentication(SessionAuthentication):
    """The portal's session on the API (the browsable API, HTMX calls), refused while the password must change."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None and must_change_password(result[0]):
            raise exceptions.PermissionDenied(password_change_message())
        return result



class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token header (drf-spectacular knows DRF's classes only)."""

    target_class = "souverain.core.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <secret>` (or `Bearer <secret>`): a token from POST /api/auth/token/ or "
                               "/api/tokens/."}


class PasswordCheckedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "souverain.core.auth.PasswordCheckedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
