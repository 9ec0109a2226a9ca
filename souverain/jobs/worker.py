"""The in-process worker, scheduler and recovery timer of the embedded default (``souverain run`` without a broker).

Three daemon threads, so that none waits for another:

- the worker runs up to ``SOUVERAIN_WORKER_CONCURRENCY`` queued jobs at once (default 4), each in a thread of
  its own pool, oldest first (a sync job itself runs its clouds in parallel threads). It polls the job table,
  and ``wake()`` (called when a job is queued in this process, or one of its jobs ends) spares the wait. One at
  a time was the old rule: twenty approved requests then waited for each other's servers to boot (each job
  mostly waits on the cloud), and one long sync held every request behind it;
- the scheduler fires the periodic entries of ``CELERY_BEAT_SCHEDULE`` - the same schedule Celery beat uses
  in scale mode, so both modes sync on the same rhythm. The entries only queue jobs;
- the recovery timer recovers, every third of the job lease, the jobs whose worker died (this process's
  before a restart, or a ``souverain sync`` killed mid-way): see ``services.recover_interrupted``. It used to
  be a scheduler entry run by the worker thread, so a killed job waited for the worker to finish its current
  job and for the next sync tick (minutes); now a job is recovered within its lease.

With ``CELERY_BROKER_URL`` set none of them starts: Celery workers and beat (which has the recovery entry) do
this work.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from . import services
from .models import Job

log = logging.getLogger(__name__)

POLL_INTERVAL = 2.0
#: Jobs run at once by one process's worker, unless ``SOUVERAIN_WORKER_CONCURRENCY`` says otherwise.
DEFAULT_CONCURRENCY = 4
#: The beat entry that the recovery timer replaces in the in-process mode.
RECOVERY_TASK = "souverain.jobs.tasks.recover_interrupted"

_lock = threading.Lock()
_worker: InProcessWorker | None = None
_helpers: list[_Loop] = []


class _Loop(threading.Thread):
    """A daemon thread calling ``tick`` until stopped, every ``interval`` seconds or when woken."""

    def __init__(self, name: str, interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self._wake = threading.Event()
        self._stopped = threading.Event()

    def tick(self) -> bool:
        """One round; True when there may be more to do at once (no wait)."""
        raise NotImplementedError

    def run(self) -> None:
        try:
            while not self._stopped.is_set():
                busy = False
                try:
                    close_old_connections()
                    busy = self.tick()
                except Exception:  # noqa: BLE001 - the thread outlives any one failure
                    log.exception("%s: unexpected error", self.name)
                if not busy:
                    self._wake.wait(self.interval)
                    self._wake.clear()
        finally:
            connection.close()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        self._wake.set()
        self.join(timeout)


def _next_queued(busy: set[int]) -> Job | None:
    """The oldest queued job but those this worker already handed to its pool (not claimed yet)."""
    if not busy:
        return services.next_queued()
    return Job.objects.filter(status=Job.Status.QUEUED).exclude(pk__in=busy).order_by("created", "id").first()


def worker_concurrency() -> int:
    """``SOUVERAIN_WORKER_CONCURRENCY``; 1 on an in-memory SQLite database (the tests'), whose shared cache makes a
    connection fail at once, instead of waiting, while another one writes."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return 1
    return max(1, int(getattr(settings, "SOUVERAIN_WORKER_CONCURRENCY", DEFAULT_CONCURRENCY)))


class InProcessWorker(_Loop):
    """Claims the oldest queued jobs while it has a free slot, and runs each in a thread of its pool."""

    def __init__(self, *, poll_interval: float = POLL_INTERVAL, concurrency: int | None = None) -> None:
        super().__init__("souverain-worker", poll_interval)
        self.concurrency = max(1, concurrency or worker_concurrency())
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="souverain-job")
        self._guard = threading.Lock()
        #: Jobs handed to the pool and not finished yet (claimed or about to be).
        self.running: set[int] = set()

    def tick(self) -> bool:
        with self._guard:
            if len(self.running) >= self.concurrency:
                return False  # a job's end wakes the loop
            busy = set(self.running)
        job = _next_queued(busy)
        if job is None:
            return False
        with self._guard:
            self.running.add(job.pk)
        self._pool.submit(self._run, job.pk)
        return True

    def _run(self, job_id: int) -> None:
        try:
            services.run_job(job_id)
        except services.RetryLater as exc:
            log.info("job %s put back in the queue: %s", job_id, exc)
            self._stopped.wait(self.interval)  # do not spin on a busy lock
        except Exception:  # noqa: BLE001 - run_job records the handler's failures; this is the claim's or the DB's
            log.exception("job %s: unexpected error", job_id)
        finally:
            close_old_connections()
            connection.close()
            with self._guard:
                self.running.discard(job_id)
            self.wake()

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)


class Recovery(_Loop):
    """Recovers the jobs whose lease expired; at start, then every third of the lease."""

    def __init__(self) -> None:
        super().__init__("souverain-job-recovery", services.job_lease().total_seconds() / 3)

    def tick(self) -> bool:
        recovered = services.recover_interrupted()
        if recovered:
            log.warning("recovered %d job(s) whose worker stopped", recovered)
        return False


class Scheduler(_Loop):
    """Fires the due entries of the beat schedule (each only queues jobs)."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__("souverain-scheduler", 1.0)
        self.entries = entries

    def tick(self) -> bool:
        now = time.monotonic()
        for entry in self.entries:
            if now >= entry["next"]:
                entry["next"] = now + entry["every"]
                try:
                    entry["call"](*entry["args"], **entry["kwargs"])
                except Exception:  # noqa: BLE001
                    log.exception("scheduled %s failed", entry["name"])
        return False


def _schedule() -> list[dict[str, Any]]:
    """The beat schedule's entries with a fixed interval, as callables (tasks run in the scheduler's thread)."""
    entries = []
    at_start = getattr(settings, "SOUVERAIN_SYNC_AT_START", True)
    for name, entry in (getattr(settings, "CELERY_BEAT_SCHEDULE", {}) or {}).items():
        if entry["task"] == RECOVERY_TASK:
            continue  # the recovery timer's job here
        every = entry.get("schedule")
        if isinstance(every, timedelta):
            every = every.total_seconds()
        if not isinstance(every, (int, float)):
            log.warning("schedule entry %s: only fixed intervals run in the in-process scheduler", name)
            continue
        module, _, attr = entry["task"].rpartition(".")
        task = getattr(importlib.import_module(module), attr)
        call: Callable[..., Any] = getattr(task, "run", task)
        entries.append({
            "name": name, "every": float(every), "call": call,
            "args": list(entry.get("args", ())), "kwargs": dict(entry.get("kwargs", {})),
            # The shortest entry (the incremental sync) fires at start, so a fresh server fills its inventory.
            "next": time.monotonic() + float(every),
        })
    if at_start and entries:
        # The shortest sync, not the shortest entry: the notifications' retry (30 s) is shorter and fills nothing.
        syncs = [e for e in entries if e["name"].startswith("inventory-")] or entries
        min(syncs, key=lambda e: e["every"])["next"] = time.monotonic()
    return entries


def start_in_process_worker(*, poll_interval: float = POLL_INTERVAL, schedule: bool = True,
                            concurrency: int | None = None) -> InProcessWorker | None:
    """Start the worker, the recovery timer and (with ``schedule``) the scheduler, once per process.

    ``concurrency``: jobs run at once (default ``SOUVERAIN_WORKER_CONCURRENCY``).

    Returns the worker thread; None in scale mode (Celery runs the jobs).
    """
    global _worker
    if services.celery_enabled():
        return None
    with _lock:
        if _worker is None or not _worker.is_alive():
            for helper in _helpers:
                helper.stop()
            _helpers[:] = [Recovery(), *([Scheduler(_schedule())] if schedule else [])]
            _worker = InProcessWorker(poll_interval=poll_interval, concurrency=concurrency)
            for thread in (*_helpers, _worker):
                thread.start()
        return _worker


def stop_in_process_worker() -> None:
    global _worker
    with _lock:
        for thread in (*_helpers, *([_worker] if _worker is not None else [])):
            thread.stop()
        _helpers.clear()
        _worker = None


def wake() -> None:
    """Tell this process's worker a job was queued (no-op when none runs here: it polls anyway)."""
    worker = _worker
    if worker is not None:
        worker.wake()
