"""The inventory's background work: the ``inventory.sync`` job kind and the periodic sync task.

Jobs run through ``souverain.jobs`` (in-process worker or Celery, same code); ``schedule_sync`` is what
Celery beat - or the in-process scheduler, from the same ``CELERY_BEAT_SCHEDULE`` - calls periodically.
"""

from __future__ import annotations

from celery import shared_task

from souverain.jobs.models import Job
from souverain.jobs.registry import register
from souverain.jobs.services import Reporter

from . import services


# Idempotent: a sync reads the cloud again and writes what differs, so a sync whose worker died is queued again.
@register(services.JOB_KIND, validate=services.validate_sync_params, idempotent=True)
def sync(job: Job, reporter: Reporter) -> None:
    services.run_sync(job, reporter)


@shared_task(name="souverain.inventory.tasks.schedule_sync", ignore_result=True)
def schedule_sync(full: bool = False) -> list[int]:
    """Queue the periodic sync jobs; returns their ids (none when the same sync is already waiting)."""
    return [job.pk for job in services.schedule_syncs(bool(full))]
