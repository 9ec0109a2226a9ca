"""The in-process worker and scheduler of the embedded default (``souverain run`` without a broker).

One daemon thread runs queued jobs one after the other (a sync job itself runs its clouds in parallel
threads) and fires the periodic entries of ``CELERY_BEAT_SCHEDULE`` - the same schedule Celery beat uses
in scale mode, so both modes sync on the same rhythm. It polls the job table, and ``wake()`` (called when
a job is queued in this process) spares the wait. With ``CELERY_BROKER_URL`` set it does not start:
Celery workers and beat do this work.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from . import services

log = logging.getLogger(__name__)

POLL_INTERVAL = 2.0

_lock = threading.Lock()
_worker: InProcessWorker | None = None


class InProcessWorker(threading.Thread):
    def __init__(self, *, poll_interval: float = POLL_INTERVAL, schedule: bool = True) -> None:
        super().__init__(name="souverain-worker", daemon=True)
        self.poll_interval = poll_interval
        self.schedule = _schedule() if schedule else []
        self._wake = threading.Event()
        self._stopped = threading.Event()

    def run(self) -> None:
        try:
            recovered = services.recover_interrupted()
            if recovered:
                log.warning("marked %d interrupted job(s) failed", recovered)
        except Exception:  # noqa: BLE001 - the database may not be migrated yet; the loop retries
            log.warning("could not check for interrupted jobs", exc_info=True)
        while not self._stopped.is_set():
            ran = False
            try:
                close_old_connections()
                self._fire_due_entries()
                job = services.next_queued()
                if job is not None:
                    ran = True
                    try:
                        services.run_job(job.pk)
                    except services.RetryLater as exc:
                        log.info("job %s put back in the queue: %s", job.pk, exc)
                        self._stopped.wait(self.poll_interval)  # do not spin on a busy lock
            except Exception:  # noqa: BLE001 - the worker outlives any one failure
                log.exception("in-process worker: unexpected error")
            if not ran:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def _fire_due_entries(self) -> None:
        now = time.monotonic()
        for entry in self.schedule:
            if now >= entry["next"]:
                entry["next"] = now + entry["every"]
                try:
                    entry["call"](*entry["args"], **entry["kwargs"])
                except Exception:  # noqa: BLE001
                    log.exception("scheduled %s failed", entry["name"])

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        self._wake.set()
        self.join(timeout)


def _schedule() -> list[dict[str, Any]]:
    """The beat schedule's entries with a fixed interval, as callables (tasks run in this thread)."""
    entries = []
    at_start = getattr(settings, "SOUVERAIN_SYNC_AT_START", True)
    for name, entry in (getattr(settings, "CELERY_BEAT_SCHEDULE", {}) or {}).items():
        every = entry.get("schedule")
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if not isinstance(every, (int, float)):
            log.warning("schedule entry %s: only fixed intervals run in the in-process scheduler", name)
            continue
        module, _, attr = entry["task"].rpartition(".")
        task = getattr(importlib.import_module(module), attr)
        entries.append({
            "name": name, "every": float(every), "call": getattr(task, "run", task),
            "args": list(entry.get("args", ())), "kwargs": dict(entry.get("kwargs", {})),
            # The shortest entry (the incremental sync) fires at start, so a fresh server fills its inventory.
            "next": time.monotonic() + float(every),
        })
    if at_start and entries:
        min(entries, key=lambda e: e["every"])["next"] = time.monotonic()
    return entries


def start_in_process_worker(*, poll_interval: float = POLL_INTERVAL, schedule: bool = True) -> InProcessWorker | None:
    """Start the worker thread once per process; None in scale mode (Celery runs the jobs)."""
    global _worker
    if services.celery_enabled():
        return None
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = InProcessWorker(poll_interval=poll_interval, schedule=schedule)
            _worker.start()
        return _worker


def stop_in_process_worker() -> None:
    global _worker
    with _lock:
        if _worker is not None:
            _worker.stop()
            _worker = None


def wake() -> None:
    """Tell this process's worker a job was queued (no-op when none runs here: it polls anyway)."""
    worker = _worker
    if worker is not None:
        worker.wake()
