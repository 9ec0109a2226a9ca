"""Celery's side of the jobs (scale mode): one task runs one job row, by id.

Safe to deliver twice (the row is claimed with a conditional UPDATE) and quiet when the job is gone.
A job that cannot run now (lock busy, database unreachable) is retried with exponential backoff and
jitter; the ``Job`` row, not Celery's result backend, is the record the portal shows.
"""

from __future__ import annotations

import os
import random

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services
from .models import Job

MAX_RETRIES = 10


def backoff(retries: int, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds before retry ``retries + 1``: exponential, capped, with "equal jitter" (never immediate)."""
    ceiling = min(cap, base * 2**retries)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


@shared_task(bind=True, name="souverain.jobs.tasks.run_job", acks_late=True, max_retries=MAX_RETRIES,
             ignore_result=True)
def run_job(self, job_id: int) -> str | None:  # noqa: ANN001 - Celery's bound task
    worker = f"{self.request.hostname or 'celery'}:{os.getpid()}"
    try:
        job = services.run_job(int(job_id), worker=worker)
    except (services.RetryLater, OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    if job is None and (self.request.delivery_info or {}).get("redelivered") and \
            Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).exists():
        # Redelivered because its worker was lost, but the row still says running: come back once the
        # lease has had time to expire, and take the job over then (``claim`` allows it).
        raise self.retry(countdown=services.job_lease().total_seconds() + backoff(self.request.retries))
    return job.status if job is not None else None


@shared_task(name="souverain.jobs.tasks.recover_interrupted", ignore_result=True)
def recover_interrupted() -> int:
    """Beat's entry in scale mode (every third of the lease): jobs whose worker died are queued again or failed."""
    return services.recover_interrupted()
