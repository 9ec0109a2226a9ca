"""Refuse to serve beyond loopback with the public development secrets.

With default settings the secret key is a string published in this repository, and the credentials key was derived
from it: anyone could forge a session cookie, and a read-only copy of the database was enough to decrypt a cloud
password. ``refuse_insecure_start`` (called by ``souverain run`` with its address, by the WSGI module and the
Celery app with the allowed hosts) stops the process with the reason unless Django's debug mode is on or every
address is loopback: the embedded default on ``127.0.0.1`` keeps working out of the box.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

LOCAL_NAMES = {"localhost", "testserver", "localhost.localdomain"}


class InsecureSettings(SystemExit):
    pass


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_host(addr: str) -> str:
    """The host part of ``host:port``, ``[v6]:port``, ``unix:/path`` (a socket file is local)."""
    if addr.startswith("unix:"):
        return "localhost"
    host, _, _port = addr.rpartition(":")
    return host or addr


def insecure_defaults() -> list[str]:
    from .crypto import key_ring

    problems = []
    if settings.SECRET_KEY == getattr(settings, "DEFAULT_SECRET_KEY", None):
        problems.append("SOUVERAIN_SECRET_KEY is the public development key: set your own (e.g. "
                        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`) or run `souverain setup` "
                        "to store one in the data directory")
    if key_ring().source == "derived":
        problems.append("the credentials key is derived from the secret key: set SOUVERAIN_CREDENTIALS_KEY or run "
                        "`souverain setup` (it creates $SOUVERAIN_DATA_DIR/credentials.key, mode 0600)")
    return problems


def refuse_insecure_start(addr: str | None = None) -> None:
    if settings.DEBUG:
        return
    hosts = [bind_host(addr)] if addr else [h for h in settings.ALLOWED_HOSTS if h]
    if hosts and all(is_loopback(h.lstrip(".")) for h in hosts):
        return
    problems = insecure_defaults()
    if problems:
        where = addr or ", ".join(settings.ALLOWED_HOSTS)
        raise InsecureSettings(f"refusing to serve beyond loopback ({where}) with development secrets:\n  - "
                               + "\n  - ".join(problems))


def ensure_secret_key_file() -> bool:
    """For the embedded default: store a random secret key in the data directory (0600) when none is configured,
    for the next start to use. Returns whether one was created."""
    import os
    import secrets
    from pathlib import Path

    path = Path(settings.SECRET_KEY_FILE)
    if os.environ.get("SOUVERAIN_SECRET_KEY") or path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    return True
