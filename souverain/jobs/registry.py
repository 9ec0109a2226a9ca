"""Which function runs which kind of job.

An app registers its job kinds when it is loaded (``AppConfig.ready`` imports its ``tasks`` module):

    @register("inventory.sync", validate=validate_sync_params, idempotent=True)
    def sync(job: Job, reporter: Reporter) -> None: ...

The handler runs in whatever worker claimed the job; it reports progress, counts and errors through the
reporter, and raises only for a failure of the whole job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Job
    from .services import Reporter

Handler = Callable[["Job", "Reporter"], None]
#: Checks and normalises a job's params; raises ValueError with a message fit for an API user.
Validator = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class JobType:
    kind: str
    handler: Handler
    validate: Validator | None = None
    #: Safe to run again from the start after its worker died mid-way (a sync, a compliance pass): a job whose
    #: lease expired is queued again; any other is marked failed, since running it twice could act twice.
    idempotent: bool = False


_types: dict[str, JobType] = {}


def register(kind: str, *, validate: Validator | None = None,
             idempotent: bool = False) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        known = _types.get(kind)
        if known is not None and known.handler is not handler:
            raise ValueError(f"job kind {kind!r} is already handled by {known.handler.__qualname__}")
        _types[kind] = JobType(kind, handler, validate, idempotent)
        return handler

    return decorate


def get(kind: str) -> JobType:
    try:
        return _types[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; known: {', '.join(sorted(_types)) or 'none'}") from None


def kinds() -> list[str]:
    return sorted(_types)
