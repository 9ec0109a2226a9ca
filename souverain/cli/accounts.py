"""``souverain tokens list|create|revoke`` (through the API, as the logged-in user) and ``souverain keys rotate``
(on the server's machine, with its database: re-encrypts every stored credential under a new key)."""

from __future__ import annotations

import getpass
import os

import click

from .output import FORMAT_OPTION, emit, fail, say

TOKEN_COLUMNS = [("id", "id"), ("user", "user"), ("prefix", "token"), ("name", "name"), ("scope", "scope"),
                 ("status", "status"), ("expires", "expires"), ("last_used", "last used")]


def _client():  # noqa: ANN202
    from .client import ApiError, Client

    try:
        return Client(profile=click.get_current_context().find_root().params.get("profile"))
    except ApiError as exc:
        fail(str(exc))


def _call(fn):  # noqa: ANN001, ANN202
    from .client import ApiError

    try:
        return fn()
    except ApiError as exc:
        fail(str(exc))


@click.group()
def tokens() -> None:
    """Your API tokens (operator admins: everyone's): list, create, revoke. Secrets are shown once, at creation."""


@tokens.command("list")
@click.option("--user", default=None, help="Only this user's tokens (operator admins).")
@FORMAT_OPTION
def tokens_list(user: str | None, fmt: str) -> None:
    """List tokens without their secrets: prefix, name, scope, status, expiry, last use."""
    client = _client()
    rows = _call(lambda: client.list_all("/api/tokens/", user=user))
    emit(rows, fmt, TOKEN_COLUMNS)


@tokens.command("create")
@click.option("--name", default="", help="What the token is for.")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read", show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Valid for this many days (default: the server's SOUVERAIN_TOKEN_DAYS).")
@FORMAT_OPTION
def tokens_create(name: str, scope: str, days: int | None, fmt: str) -> None:
    """Create a token and print its secret (the only time it is shown)."""
    client = _client()
    body = {"name": name, "scope": scope, **({"expires_in_days": days} if days else {})}
    created = _call(lambda: client.request("POST", "/api/tokens/", json=body))
    if fmt == "json":
        emit(created, fmt)
        return
    say(f"token {created['prefix']}… ({created['scope']}), expires {created['expires']}; its secret, shown once:")
    click.echo(created["token"])


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its id (see `souverain tokens list`)."""
    client = _client()
    _call(lambda: client.request("DELETE", f"/api/tokens/{token_id}/"))
    say(f"token {token_id} revoked")


@click.group()
def keys() -> None:
    """The key encrypting stored credentials (souverain/core/crypto.py)."""


@keys.command("rotate")
@FORMAT_OPTION
def keys_rotate(fmt: str) -> None:
    """Re-encrypt every stored credential under a new key, old keys kept for reading until done (run again to
    finish an interrupted rotation)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    import django

    django.setup()
    from souverain.core import crypto
    from souverain.core.context import acting_as

    try:
        with acting_as(getpass.getuser(), "cli"):
            report = crypto.rotate()
    except crypto.CredentialsError as exc:
        fail(str(exc))
    if fmt == "json":
        emit(report, fmt)
        return
    total = sum(report["rows"].values())
    say(f"{'resumed rotation' if report['resumed'] else 'new key'} ({report['source']}): {total} secret(s) "
        "re-encrypted" + "".join(f"\n  {name}: {count}" for name, count in sorted(report["rows"].items())))
    if report["source"] == "environment":
        say("remove the old key from SOUVERAIN_CREDENTIALS_OLD_KEYS on every machine now")
