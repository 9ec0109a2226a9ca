"""Named locks that hold across threads, processes and machines: the per-cloud sync lock.

Scale mode keeps them in Redis (``SOUVERAIN_LOCK_URL``, else ``CELERY_BROKER_URL`` when it is a Redis
URL): ``SET NX PX`` to take, compare-and-delete to release, so only the holder frees its lock. The
embedded default keeps them in ``Lease`` rows. Either way a lock expires after ``ttl`` seconds unless its
holder renews it - a background thread does, every ttl/3 - so a worker killed mid-sync frees its clouds
within ``ttl`` instead of blocking them forever.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from . import db
from .models import Lease
from .services import RetryLater, worker_name

log = logging.getLogger(__name__)

LOCK_TTL = 120.0


class LockTimeout(RetryLater):
    """Another worker held the lock for longer than we were willing to wait."""


class _Backend(Protocol):
    def acquire(self, key: str, token: str, ttl: float) -> bool: ...
    def renew(self, key: str, token: str, ttl: float) -> bool: ...
    def release(self, key: str, token: str) -> None: ...
    def holder(self, key: str) -> str | None: ...


class DatabaseLocks:
    """Leases in the database; every step is one conditional UPDATE, atomic on SQLite and PostgreSQL."""

    name = "database"

    def acquire(self, key: str, token: str, ttl: float) -> bool:
        now = timezone.now()
        with db.turn():
            if not Lease.objects.filter(key=key).exists():
                try:
                    Lease.objects.create(key=key)
                except IntegrityError:  # another worker created it first: fine, we compete for it below
                    pass
            taken = Lease.objects.filter(Q(holder="") | Q(expires__lt=now), key=key).update(
                holder=token, acquired=now, expires=now + timedelta(seconds=ttl))
        return bool(taken)

    def renew(self, key: str, token: str, ttl: float) -> bool:
        with db.turn():
            return bool(Lease.objects.filter(key=key, holder=token).update(
                expires=timezone.now() + timedelta(seconds=ttl)))

    def release(self, key: str, token: str) -> None:
        with db.turn():
            Lease.objects.filter(key=key, holder=token).update(holder="", expires=None)

    def holder(self, key: str) -> str | None:
        with db.turn():
            lease = Lease.objects.filter(key=key, expires__gte=timezone.now()).exclude(holder="").first()
        return lease.holder if lease else None


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_RENEW = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) "
          "else return 0 end")


class RedisLocks:
    name = "redis"

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
        self._release = self.client.register_script(_RELEASE)
        self._renew = self.client.register_script(_RENEW)

    def acquire(self, key: str, token: str, ttl: float) -> bool:
        return bool(self.client.set(key, token, nx=True, px=int(ttl * 1000)))

    def renew(self, key: str, token: str, ttl: float) -> bool:
        return bool(self._renew(keys=[key], args=[token, int(ttl * 1000)]))

    def release(self, key: str, token: str) -> None:
        self._release(keys=[key], args=[token])

    def holder(self, key: str) -> str | None:
        value = self.client.get(key)
        return value.decode() if value else None


def lock_url() -> str:
    url = getattr(settings, "SOUVERAIN_LOCK_URL", "") or getattr(settings, "CELERY_BROKER_URL", "")
    return url if url.startswith(("redis://", "rediss://", "unix://")) else ""


@lru_cache(maxsize=4)
def _redis(url: str) -> RedisLocks:
    return RedisLocks(url)


def backend() -> _Backend:
    url = lock_url()
    return _redis(url) if url else DatabaseLocks()


@dataclass
class Held:
    key: str
    token: str
    backend: str
    acquired_at: float  # time.time()
    waited: float  # seconds spent waiting for it
    lost: bool = False


@contextmanager
def held(key: str, *, wait: float, ttl: float = LOCK_TTL) -> Iterator[Held]:
    """Hold the lock ``key`` for the block, waiting up to ``wait`` seconds for it (``LockTimeout`` after)."""
    locks = backend()
    token = f"{worker_name()}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    start = time.monotonic()
    delay = 0.05
    while not locks.acquire(key, token, ttl):
        remaining = start + wait - time.monotonic()
        if remaining <= 0:
            raise LockTimeout(f"{key} is held by {locks.holder(key) or 'another worker'} (waited {wait:.0f}s)")
        # Growing, jittered polls: waiters do not stampede the lock the moment it frees.
        time.sleep(min(remaining, delay * random.uniform(0.5, 1.0)))
        delay = min(delay * 2, 1.0)
    lock = Held(key, token, locks.name, time.time(), time.monotonic() - start)
    renewer = _Renewer(locks, lock, ttl)
    renewer.start()
    try:
        yield lock
    finally:
        renewer.stop()
        locks.release(key, token)


class _Renewer(threading.Thread):
    def __init__(self, locks: _Backend, lock: Held, ttl: float) -> None:
        super().__init__(name=f"lock-renew-{lock.key}", daemon=True)
        self.locks, self.lock, self.ttl = locks, lock, ttl
        self._stopped = threading.Event()

    @db.in_thread
    def run(self) -> None:
        while not self._stopped.wait(self.ttl / 3):
            try:
                if not self.locks.renew(self.lock.key, self.lock.token, self.ttl):
                    # Expired and maybe taken by another worker (we were stalled longer than ttl): say so loudly.
                    self.lock.lost = True
                    log.error("lock %s was lost while held (stalled for more than %.0fs?)", self.lock.key, self.ttl)
                    return
            except Exception:  # noqa: BLE001 - a failed renewal is retried at the next tick
                log.warning("renewing lock %s failed", self.lock.key, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)
