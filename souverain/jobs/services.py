"""Creating, queueing, claiming and running jobs; the same code in both ways of running Souverain.

``submit`` creates a job row and ``enqueue`` hands it to whoever runs jobs here: Celery when
``CELERY_BROKER_URL`` is set (scale mode), otherwise the in-process worker (embedded default), which
polls the queued rows. Either way the worker calls ``run_job(job_id)``, which claims the row with one
conditional UPDATE (so a job delivered twice runs once), runs the registered handler with a
``Reporter``, and records the outcome.

Leases. A claimed job is leased to its worker for ``job_lease()`` seconds (``SOUVERAIN_JOB_LEASE``), renewed
by a heartbeat thread every fifth of that, whatever the handler is doing. A job whose lease expired belongs
to a worker that died (kill -9, a lost machine, a crashed engine): ``recover_interrupted`` - called by a
timer of its own, never by the worker, so a busy or dead worker does not delay it - queues it again when its
kind is idempotent (a sync, a compliance pass) and marks it failed, saying which worker stopped when,
otherwise. Every claim increments ``attempts``, and every write a worker makes to its job is conditional on
the attempt it claimed: a worker that stalled past its lease finds its job taken and writes nothing more.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from souverain.core import events
from souverain.core.context import acting_as

from . import db, registry
from .models import Job

if TYPE_CHECKING:
    from souverain.tenancy.models import Tenant

log = logging.getLogger(__name__)

#: Seconds a claimed job stays its worker's without a heartbeat, unless ``SOUVERAIN_JOB_LEASE`` says otherwise.
DEFAULT_LEASE = 15.0
#: An idempotent job whose worker died this many times is failed rather than queued again (it may be what kills
#: its workers, e.g. a policy that crashes the engine).
MAX_ATTEMPTS = 3
#: Progress is written to the job row at most this often (seconds): the portal polls, nobody needs more.
FLUSH_EVERY = 0.5

MAX_ERRORS = 200  # per job: a cloud answering 500 to everything must not grow the row without bound


class RetryLater(Exception):
    """The job cannot run now (a lock is busy, the database is unreachable): queue it again, later."""


class LeaseLost(Exception):
    """The job's lease expired while its worker still ran it, and the job was recovered or taken over."""


def job_lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "SOUVERAIN_JOB_LEASE", DEFAULT_LEASE)))


def celery_enabled() -> bool:
    return bool(getattr(settings, "CELERY_BROKER_URL", ""))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- creating and queueing ---------------------------------------------------------------------------------


def create_job(kind: str, params: dict[str, Any] | None = None, *, requested_by: str = "",
               tenant: Tenant | None = None) -> Job:
    """A queued job row; ``params`` are checked by the kind's validator (ValueError when wrong). ``tenant``: the
    tenant whose objects the job is about, if one (its bound auditors see the job; nobody else scoped does)."""
    job_type = registry.get(kind)
    clean = job_type.validate(dict(params or {})) if job_type.validate else dict(params or {})
    return Job.objects.create(kind=kind, params=clean, requested_by=requested_by, tenant=tenant)


def enqueue(job: Job) -> None:
    """Hand a queued job to the workers, once the transaction that created it has committed."""
    if celery_enabled():
        transaction.on_commit(lambda: _send_to_celery(job.pk))
    else:
        from . import worker

        transaction.on_commit(worker.wake)


def submit(kind: str, params: dict[str, Any] | None = None, *, requested_by: str = "",
           tenant: Tenant | None = None) -> Job:
    job = create_job(kind, params, requested_by=requested_by, tenant=tenant)
    enqueue(job)
    return job


def _send_to_celery(job_id: int) -> None:
    # Celery's current app, not the project's module: the project makes its app current when Django's settings
    # load in scale mode (souverain/project/__init__.py), and the domain stays below the project.
    from celery import current_app

    current_app.send_task("souverain.jobs.tasks.run_job", args=[job_id])


# --- running -----------------------------------------------------------------------------------------------


def _lease_expired(now: dt.datetime) -> Q:
    return Q(status=Job.Status.RUNNING) & (Q(heartbeat__lt=now - job_lease()) | Q(heartbeat__isnull=True))


def claim(job_id: int, worker: str) -> Job | None:
    """Take a queued job (or a running one whose lease expired); None when another worker has it."""
    now = timezone.now()
    taken = Job.objects.filter(Q(status=Job.Status.QUEUED) | _lease_expired(now), pk=job_id).update(
        status=Job.Status.RUNNING, started=now, heartbeat=now, finished=None, worker=worker[:200],
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
    events.emit("job.start", object_type="jobs.job", object_id=str(job.pk), object_repr=str(job),
                username=job.requested_by or "system", source="job",
                data={"kind": job.kind, "params": job.params, "attempt": job.attempts, "worker": job.worker})
    reporter = Reporter(job)
    beating = _Heartbeat(reporter)
    beating.start()
    try:
        handler = registry.get(job.kind).handler
        with acting_as(job.requested_by or "system", "job"):
            handler(job, reporter)
    except RetryLater as exc:
        beating.stop()
        requeue(job.pk, f"waiting: {exc}", attempt=job.attempts)
        raise
    except Exception as exc:  # noqa: BLE001 - whatever broke, the job row must say so
        log.exception("job %s (%s) failed", job.pk, job.kind)
        reporter.error(f"{type(exc).__name__}: {exc}")
        reporter.finish(Job.Status.FAILED)
    else:
        reporter.finish()
    finally:
        beating.stop()
    if reporter.lost:
        log.error("job %s (%s): its lease expired while this worker ran it; the outcome here is discarded",
                  job.pk, job.kind)
    job.refresh_from_db()
    events.emit("job.end", object_type="jobs.job", object_id=str(job.pk), object_repr=str(job),
                username=job.requested_by or "system", source="job",
                data={"kind": job.kind, "status": job.status, "attempt": job.attempts, "counts": job.counts,
                      "errors": len(job.errors or []), "lost_lease": reporter.lost})
    return job


class _Heartbeat(threading.Thread):
    """Renews the job's lease every fifth of it, whatever the handler does (waits on a lock, a long page, a
    long statement): only a dead or frozen process stops beating."""

    def __init__(self, reporter: Reporter) -> None:
        super().__init__(name=f"job-{reporter.job_id}-heartbeat", daemon=True)
        self.reporter = reporter
        self.interval = max(0.2, job_lease().total_seconds() / 5)
        self._stopped = threading.Event()

    @db.in_thread
    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                if not self.reporter.beat():
                    return  # the lease was lost: the reporter says so, nothing more to renew
            except Exception:  # noqa: BLE001 - a missed beat is not worth killing the job for; the next may pass
                log.warning("job %s: heartbeat failed", self.reporter.job_id, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


def requeue(job_id: int, message: str = "", *, attempt: int | None = None) -> bool:
    """Queue a job again; with ``attempt``, only if that claim still holds it (a worker putting its job back)."""
    rows = Job.objects.filter(pk=job_id)
    if attempt is not None:
        rows = rows.filter(status=Job.Status.RUNNING, attempts=attempt)
    return bool(rows.update(status=Job.Status.QUEUED, heartbeat=None, message=message[:300]))


def next_queued() -> Job | None:
    return Job.objects.filter(status=Job.Status.QUEUED).order_by("created", "id").first()


def recover_interrupted() -> int:
    """Recover the running jobs whose lease expired (their worker died mid-job); returns how many.

    An idempotent kind is queued again (and handed to the workers), up to ``MAX_ATTEMPTS`` claims; any other
    job is marked failed with the worker and the time of its last heartbeat. Each row is updated only if it
    is still the same expired claim, so a worker that beats again at that moment keeps its job.
    """
    now = timezone.now()
    lease = job_lease()
    recovered = 0
    expired = Job.objects.filter(_lease_expired(now)).values_list("pk", "kind", "attempts", "worker", "heartbeat")
    for pk, kind, attempts, worker, heartbeat in list(expired):
        last = heartbeat.isoformat(timespec="seconds") if heartbeat else "never"
        why = f"worker {worker or '?'} stopped renewing its {lease.total_seconds():g} s lease (last heartbeat {last})"
        try:
            idempotent = registry.get(kind).idempotent
        except ValueError:
            idempotent = False  # a kind no process here knows: nobody can run it again
        same_claim = Job.objects.filter(_lease_expired(now), pk=pk, attempts=attempts)
        if idempotent and attempts < MAX_ATTEMPTS:
            taken = same_claim.update(status=Job.Status.QUEUED, heartbeat=None,
                                      message=f"queued again: {why}"[:300])
            if taken:
                enqueue(Job(pk=pk))
        else:
            reason = f"interrupted: {why}" + (f"; gave up after {attempts} attempts" if idempotent else "")
            taken = same_claim.update(status=Job.Status.FAILED, finished=now, message=reason[:300])
        if taken:
            log.warning("job %s (%s) recovered: %s", pk, kind, why)
        recovered += taken
    return recovered


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
        #: The claim this reporter writes for: once the job was recovered or taken over, nothing is written.
        self.attempt = job.attempts
        self.lost = False
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
        self._write(**values)

    def beat(self) -> bool:
        """Renew the lease; False once it is lost."""
        return self._write(heartbeat=timezone.now())

    def finish(self, status: str | None = None) -> None:
        outcome = status or self.outcome or (Job.Status.PARTIAL if self.errors else Job.Status.SUCCEEDED)
        if outcome != Job.Status.FAILED:
            self.progress = 1.0
        self.flush(force=True)
        self._write(status=outcome, finished=timezone.now())

    def _write(self, **values: Any) -> bool:
        if self.lost:
            return False
        with db.turn():
            mine = Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING, attempts=self.attempt)
            if mine.update(**values):
                return True
        self.lost = True
        log.error("job %s: lost its lease (recovered or taken over by another worker); this worker stops writing",
                  self.job_id)
        return False
