"""Errors that say the stored data breaks an invariant the code relies on.

Validation keeps bad data out on every write path; these errors are the defence in depth for data that got in
anyway (a direct database edit, a row written by an older version). They carry a readable message that names
the offending objects, and the API (``core.api.exception_handler``) and the portal (``core.middleware``) answer
them with 409 Conflict and that message instead of a 500 for every user.

No Django import here: the pure modules (ownership, exposure) raise these without depending on the ORM.
"""

from __future__ import annotations

from typing import Any


class InconsistentData(Exception):
    """The stored data contradicts an invariant; ``details`` is extra JSON for the API's error body."""

    status_code = 409

    @property
    def details(self) -> dict[str, Any]:
        return {}
