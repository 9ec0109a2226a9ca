"""Who is acting, for change logging: set by the request middleware, the CLI and jobs."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Actor:
    username: str
    request_id: str
    source: str  # "api", "portal", "cli", "job"
    client_request_id: str = ""  # the caller's X-Request-Id (middleware), kept beside the server's own id


_current: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("souverain_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


def rebind_user(username: str) -> None:
    """Name the user once authentication has run: the request middleware runs before DRF authenticates an API
    token, and would otherwise record every token-authenticated change as "anonymous"."""
    actor = _current.get()
    if actor is not None and actor.username != username:
        _current.set(replace(actor, username=username))


@contextmanager
def acting_as(username: str, source: str, request_id: str | None = None, *,
              client_request_id: str = "") -> Iterator[Actor]:
    actor = Actor(username=username, request_id=request_id or uuid.uuid4().hex, source=source,
                  client_request_id=client_request_id)
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
