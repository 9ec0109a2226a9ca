"""Audit events: how every layer reports a mutation or a security event without importing the audit app.

The audit trail (``souverain.audit``) sits above the apps whose events it records, so they cannot call it. They
call ``emit`` here instead, and the audit app registers itself as a recorder in its ``AppConfig.ready``. A
recorder runs synchronously, in the caller's transaction: an event and the change it describes commit or roll
back together, and a recorder that fails makes the change fail (no change without its record).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    action: str  # dotted, e.g. "object.update", "auth.login_failed", "job.end"
    object_type: str = ""  # "<app_label>.<model>" when the event is about one object
    object_id: str = ""
    object_repr: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # before/after or the event's details, JSON-able
    # Who, when the current actor (core.context) is not the right one (a login, a denial on an API token).
    username: str | None = None
    source: str | None = None


Recorder = Callable[[Event], None]

_recorders: list[Recorder] = []


def add_recorder(recorder: Recorder) -> None:
    if recorder not in _recorders:
        _recorders.append(recorder)


def remove_recorder(recorder: Recorder) -> None:
    if recorder in _recorders:
        _recorders.remove(recorder)


def emit(action: str, **fields: Any) -> None:
    """Hand an event to every recorder (none registered: nothing happens)."""
    if not _recorders:
        return
    event = Event(action=action, **fields)
    for recorder in list(_recorders):
        recorder(event)
