"""API tokens: issued with a secret shown once, stored as its SHA-256, expiring, scoped, revocable.

Format. ``sv_`` and 43 URL-safe characters (256 random bits). The secret is high-entropy, so one SHA-256 is a
sufficient digest (a slow password hash protects guessable secrets; nobody guesses 256 bits); the lookup is by
digest, an indexed unique column, so checking a token costs one query.

Lifetime. Every token expires: ``SOUVERAIN_TOKEN_DAYS`` after issue (default 30), or sooner if asked, never later
than ``SOUVERAIN_TOKEN_MAX_DAYS`` (default 365). ``souverain login`` gets a new token each time (they no longer
come back identical), named after the client; a user may hold several, list them, and revoke any of theirs;
operator admins list and revoke everyone's. Nobody, ever, sees a secret again after its issue.

Scope. ``read`` tokens may only use safe methods (GET, HEAD, OPTIONS); ``write`` tokens what the user's role
allows. The role stays the limit: a scope only narrows it.

Migration from DRF's authtoken (plain keys in ``authtoken_token``): migration ``core.0003`` hashes every
existing key into an ``ApiToken`` expiring ``SOUVERAIN_TOKEN_DAYS`` after the migration, then empties that
table; the CLI's stored tokens keep working until then. Issue, revocation and every refused use of a revoked or
expired token are audit events (``auth.token_issued``, ``auth.token_revoked``); never the secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import events
from .models import ApiToken

PREFIX = "sv_"
#: Characters of the secret kept in clear to recognise a token in a list (the ``sv_`` and 6 random ones).
SHOWN = 9
#: How often a token's last use is written (not on every request: one write per minute at most).
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenError(ValueError):
    """A request for a token that cannot be honoured; ``field`` names the bad input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def default_days() -> int:
    return int(getattr(settings, "SOUVERAIN_TOKEN_DAYS", 30))


def max_days() -> int:
    return int(getattr(settings, "SOUVERAIN_TOKEN_MAX_DAYS", 365))


def issue(user: Any, *, name: str = "", scope: str = ApiToken.Scope.WRITE, days: int | None = None,
          actor: str | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and its secret (the only time the secret exists in clear)."""
    if scope not in ApiToken.Scope.values:
        raise TokenError("scope", f"must be one of {', '.join(ApiToken.Scope.values)}")
    days = default_days() if days is None else days
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= max_days():
        raise TokenError("expires_in_days", f"must be a whole number of days from 1 to {max_days()}")
    if len(name) > 100:
        raise TokenError("name", "at most 100 characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:SHOWN], digest=digest(secret), scope=scope,
        created_by=actor or user.get_username(), expires=timezone.now() + dt.timedelta(days=days))
    events.emit("auth.token_issued", object_type="core.apitoken", object_id=str(token.pk), object_repr=str(token),
                username=actor or user.get_username(),
                data={"user": user.get_username(), "name": name, "scope": scope, "expires": token.expires.isoformat(),
                      "prefix": token.prefix})
    return token, secret


def revoke(token: ApiToken, *, actor: str) -> ApiToken:
    """Revoke once (revoking a revoked token changes nothing and records nothing)."""
    if token.revoked is None:
        token.revoked, token.revoked_by = timezone.now(), actor
        token.save(update_fields=["revoked", "revoked_by"])
        events.emit("auth.token_revoked", object_type="core.apitoken", object_id=str(token.pk),
                    object_repr=str(token), username=actor,
                    data={"user": token.user.get_username(), "name": token.name, "prefix": token.prefix})
    return token


def find(secret: str) -> ApiToken | None:
    """The token this secret is, whatever its state (the caller says why a revoked or expired one is refused)."""
    if not secret or len(secret) > 200:
        return None
    return ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()


def touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used is None or now - token.last_used >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
