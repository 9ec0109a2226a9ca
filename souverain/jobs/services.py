"""Creating, queueing, claiming and running jobs; the same code in both ways of running Souverain.

``submit`` creates a job row and ``enqueue`` hands it to whoever runs jobs here: Celery when
``CELERY_BROKER_URL`` is set (scale mode), otherwise the in-process worker (embedded default), which
polls the queued rows. Either way the worker calls ``run_job(job_id)``, which claims the row with one
conditional UPDATE (so a job delivered twice runs once), runs the registered handler with a
``Reporter``, and records the outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from souverain.core.context import acting_as

from . import db, registry
from .models import Job

log = logging.getLogger(__name__)

#: A running job whose heartbeat is older than this belongs to a worker that died; it may be claimed again.
STALE_AFTER = dt.timedelta(seconds=180)
#: Progress is written to the job row at most this often (seconds): the portal polls, nobody needs more.
FLUSH_EVERY = 0.5

MAX_ERRORS = 200  # per job: a cloud answering 500 to everything must not grow the row without bound


class RetryLater(Exception):
    """The job cannot run now (a lock is busy, the database is unreachable): queue it again, later."""


def celery_enabled() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", ""))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- creating and queueing ---------------------------------------------------------------------------------


def create_job(kind: str, params: dict[str, Any] | None = None, *, requested_by: str = "") -> Job:
    """A queued job row; ``params`` are checked by the kind's validator (ValueError when wrong)."""
    job_type = registry.get(kind)
    clean = job_type.validate(dict(params or {})) if job_type.validate else dict(params or {})
    return Job.objects.create(kind=kind, params=clean, requested_by=requested_by)


def enqueue(job: Job) -> None:
    """Hand a queued job to the workers, once the transaction that created it has committed."""
    if celery_enabled():
        transaction.on_commit(lambda: _send_to_celery(job.pk))
    else:
        from . import worker

        transaction.on_commit(worker.wake)


def submit(kind: str, params: dict[str, Any] | None = None, *, requested_by: str = "") -> Job:
    job = create_job(kind, params, requested_by=requested_by)
    enqueue(job)
    return job


def _send_to_celery(job_id: int) -> None:
    from souverain.project.celery import app

    app.send_task("souverain.jobs.tasks.run_job", args=[job_id])


# --- running -----------------------------------------------------------------------------------------------


def claim(job_id: int, worker: str) -> Job | None:
    """Take a queued job (or a running one whose worker stopped beating); None when another worker has it."""
    now = timezone.now()
    taken = Job.objects.filter(
        Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, heartbeat__lt=now - STALE_AFTER), pk=job_id
    ).update(status=Job.Status.RUNNING, started=now, heartbeat=now, finished=None, worker=worker[:200],
             attempts=F("attempts") + 1)
    return Job.objects.get(pk=job_id) if taken else None


def run_job(job_id: int, *, worker: str | None = None) -> Job | None:
    """Claim and run one job; None (quietly) when it is gone, finished or held by another worker.

    Raises ``RetryLater`` after putting the job back in the queue when it could not run now.
    """
    job = claim(job_id, worker or worker_name())
    if job is None:
        log.info("job %s: nothing to do (gone, finished or taken by another worker)", job_id)
        return None
    reporter = Reporter(job)
    beating = _Heartbeat(reporter)
    beating.start()
    try:
        handler = registry.get(job.kind).handler
        with acting_as(job.requested_by or "system", "job"):
            handler(job, reporter)
    except RetryLater as exc:
        requeue(job.pk, f"waiting: {exc}")
        raise
    except Exception as exc:  # noqa: BLE001 - whatever broke, the job row must say so
        log.exception("job %s (%s) failed", job.pk, job.kind)
        reporter.error(f"{type(exc).__name__}: {exc}")
        reporter.finish(Job.Status.FAILED)
    else:
        reporter.finish()
    finally:
        beating.stop()
    job.refresh_from_db()
    return job


class _Heartbeat(threading.Thread):
    """Keeps the job's heartbeat fresh while the handler waits on something slow (a lock, a long page)."""

    INTERVAL = 30.0

    def __init__(self, reporter: Reporter) -> None:
        super().__init__(name=f"job-{reporter.job_id}-heartbeat", daemon=True)
        self.reporter = reporter
        self._stopped = threading.Event()

    @db.in_thread
    def run(self) -> None:
        while not self._stopped.wait(self.INTERVAL):
            try:
                self.reporter.flush(force=True)
            except Exception:  # noqa: BLE001 - a missed beat is not worth killing the job for
                log.warning("job %s: heartbeat failed", self.reporter.job_id, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()


def requeue(job_id: int, message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.QUEUED, heartbeat=None, message=message[:300])


def next_queued() -> Job | None:
    return Job.objects.filter(status=Job.Status.QUEUED).order_by("created", "id").first()


def recover_interrupted() -> int:
    """Mark failed the running jobs whose worker stopped beating (the process was killed mid-job)."""
    now = timezone.now()
    return Job.objects.filter(status=Job.Status.RUNNING, heartbeat__lt=now - STALE_AFTER).update(
        status=Job.Status.FAILED, finished=now, message="interrupted: the worker running it stopped"
    )


def wait_for(job_id: int, timeout: float, interval: float = 0.5) -> Job:
    """Poll a job until it finishes (for the CLI and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        job = Job.objects.get(pk=job_id)
        if job.is_finished or time.monotonic() > deadline:
            return job
        time.sleep(interval)


class Reporter:
    """Progress, counts and errors of a running job; thread-safe, written to the row at most every 0.5 s."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter(job.counts or {})
        self.errors: list[dict[str, Any]] = list(job.errors or [])
        self.detail: dict[str, dict[str, Any]] = dict(job.detail or {})
        self.progress = 0.0
        self.message = ""
        #: A handler sets this when its own rule decides the outcome (e.g. every part failed).
        self.outcome: str | None = None
        self._flushed = 0.0

    def add(self, **counts: int) -> None:
        with self._lock:
            self.counts.update({k: v for k, v in counts.items() if v})
        self.flush()

    def error(self, message: str, **where: Any) -> None:
        with self._lock:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append({**where, "error": message[:2000], "time": timezone.now().isoformat()})
        self.flush(force=True)

    def part(self, key: str, **fields: Any) -> None:
        with self._lock:
            self.detail.setdefault(key, {}).update(fields)
        self.flush()

    def set_progress(self, fraction: float, message: str | None = None) -> None:
        with self._lock:
            self.progress = max(0.0, min(1.0, fraction))
            if message is not None:
                self.message = message[:300]
        self.flush()

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._flushed < FLUSH_EVERY:
            return
        with self._lock:
            self._flushed = now
            values = {"counts": dict(self.counts), "errors": list(self.errors), "progress": self.progress,
                      "message": self.message, "heartbeat": timezone.now(),
                      "detail": {k: dict(v) for k, v in self.detail.items()}}
        with db.turn():
            Job.objects.filter(pk=self.job_id).update(**values)

    def finish(self, status: str | None = None) -> None:
        outcome = status or self.outcome or (Job.Status.PARTIAL if self.errors else Job.Status.SUCCEEDED)
        if outcome != Job.Status.FAILED:
            self.progress = 1.0
        self.flush(force=True)
        with db.turn():
            Job.objects.filter(pk=self.job_id).update(status=outcome, finished=timezone.now())
