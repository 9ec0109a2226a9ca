"""Capacity as background work: the ``capacity.sync`` job kind, its trigger after inventory syncs, its schedule.

The trigger listens to the ``job.end`` event (``core.events``) rather than to the inventory's signal: that signal
is sent only when resources changed, and a cloud's free capacity moves without any resource of ours changing
(another tenant's servers, an operator's new hypervisor).
"""

from __future__ import annotations

import logging

from celery import shared_task

from souverain.core import events
from souverain.jobs.models import Job
from souverain.jobs.registry import register
from souverain.jobs.services import Reporter

from . import services

log = logging.getLogger(__name__)


# Idempotent: a capacity sync only adds a snapshot, so one whose worker died is simply run again.
@register(services.JOB_KIND, validate=services.validate_sync_params, idempotent=True)
def sync(job: Job, reporter: Reporter) -> None:
    services.run_sync(job, reporter)


def after_job(event: events.Event) -> None:
    """After an inventory sync job ends (succeeded or partial), measure the capacity of the same clouds."""
    if event.action != "job.end" or event.data.get("kind") != "inventory.sync":
        return
    try:
        job = Job.objects.filter(pk=int(event.object_id)).first()
        if job is not None:
            services.after_inventory_sync(job)
    except Exception:  # noqa: BLE001 - a failed trigger must not fail the sync it follows (recorders can)
        log.exception("could not queue the capacity sync after job %s", event.object_id)


@shared_task(name="souverain.capacity.tasks.schedule_sync", ignore_result=True)
def schedule_sync() -> int | None:
    """Queue the periodic capacity sync; returns its job id (None when one is already waiting)."""
    job = services.schedule_syncs()
    return job.pk if job is not None else None
