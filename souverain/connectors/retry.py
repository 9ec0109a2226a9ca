"""Bounded retries with exponential backoff and jitter, for any provider.

Only transient failures are retried (``Unavailable``: 5xx, 429, refused or dropped connections;
``Timeout``) and, by default, only for methods that are safe to repeat: a POST whose answer was lost
may have created the server, and a second one would create another.

keystoneauth has its own retries (``connect_retries``, ``status_code_retries``) but they apply to every
method and have no jitter, so the connectors turn them off and use this instead.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import ConnectorError, Timeout, Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to repeat a failed call.

    ``attempts`` counts the first try: 4 means up to 3 retries. The n-th retry waits between half and
    all of ``min(max_delay, base_delay * 2**(n-1))`` ("equal jitter": spread out, never immediate), or
    what the server asked for with ``Retry-After`` when that is longer, still capped at ``max_delay``.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    methods: frozenset[str] = frozenset({"GET", "HEAD"})
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(delay, self.max_delay)

    def call(self, method: str, attempt: Callable[[], T], *, what: str = "") -> T:
        """Run ``attempt`` until it succeeds, fails for good, or the attempts are spent."""
        retries = self.attempts - 1 if method.upper() in self.methods else 0
        for retry in range(1, retries + 2):
            try:
                return attempt()
            except (Unavailable, Timeout) as exc:
                if retry > retries:
                    raise
                delay = self.delay(retry, exc.retry_after if isinstance(exc, Unavailable) else None)
                log.warning("%s %s failed (%s); retry %d/%d in %.1fs", method, what, _short(exc), retry, retries,
                            delay)
                self.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


NO_RETRY = RetryPolicy(attempts=1)


def _short(exc: ConnectorError) -> str:
    return f"{type(exc).__name__}: {exc}"
