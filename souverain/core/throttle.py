"""Login throttling, per account and per address, in the database (works the same on SQLite and PostgreSQL, with
no cache server, and across every web process).

Each failed login (the portal's form, the API's token endpoint, anything going through Django's
``authenticate``) is a ``LoginFailure`` row (``record_failure``, connected to ``user_login_failed``). Before
checking a password, ``blocked`` counts the failures of the last ``SOUVERAIN_LOGIN_WINDOW`` seconds (default
900): at ``SOUVERAIN_LOGIN_MAX_PER_ACCOUNT`` (default 5) for that username, or
``SOUVERAIN_LOGIN_MAX_PER_ADDRESS`` (default 20) from that address, the attempt is refused without looking at
the password, until the oldest counted failure leaves the window. A refused attempt counts as a failure too
(someone still guessing keeps the door shut) and is an audit event (``auth.login_throttled``); each failure is
one already (``auth.login_failed``, the audit app's receiver). A successful login forgets its account's failures.

The address is the connection's (``REMOTE_ADDR``); behind a reverse proxy, set ``SOUVERAIN_PROXY_ADDRESS_HEADER``
(e.g. ``HTTP_X_REAL_IP``) to the header the proxy sets. A per-account limit lets anyone lock an account out for
the window: the price of stopping guessing, the same trade-off as django-axes' default.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.utils import timezone

from .models import LoginFailure


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def window() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("SOUVERAIN_LOGIN_WINDOW", 900))


def address_of(request: Any) -> str:
    meta = getattr(request, "META", None) or {}
    header = getattr(settings, "SOUVERAIN_PROXY_ADDRESS_HEADER", "")
    value = (meta.get(header) if header else "") or meta.get("REMOTE_ADDR", "")
    return str(value).split(",")[0].strip()[:64]


def blocked(username: str, address: str) -> int:
    """Seconds until another attempt is allowed for this username or address; 0 when it is allowed now."""
    since = timezone.now() - window()
    waits = []
    for field, value, limit in (("username", username[:150], _setting("SOUVERAIN_LOGIN_MAX_PER_ACCOUNT", 5)),
                                ("address", address, _setting("SOUVERAIN_LOGIN_MAX_PER_ADDRESS", 20))):
        if not value:
            continue
        times = list(LoginFailure.objects.filter(**{field: value}, time__gte=since)
                     .order_by("-time").values_list("time", flat=True)[:limit])
        if len(times) >= limit:
            # Allowed again when the limit-th most recent failure leaves the window.
            waits.append((times[limit - 1] + window() - timezone.now()).total_seconds())
    return max(1, math.ceil(max(waits))) if waits else 0


def record_failure(username: str, address: str) -> None:
    LoginFailure.objects.create(username=username[:150], address=address)
    # Keep the table small: what left the window long ago counts for nothing.
    LoginFailure.objects.filter(time__lt=timezone.now() - 4 * window()).delete()


def forget(username: str) -> None:
    LoginFailure.objects.filter(username=username[:150]).delete()


def minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))
