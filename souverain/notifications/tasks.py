"""The notifications' background work: the ``notifications.deliver`` job kind and the periodic retry and alert
passes (``CELERY_BEAT_SCHEDULE``, run by Celery beat or the in-process scheduler)."""

from __future__ import annotations

from celery import shared_task

from souverain.jobs.models import Job
from souverain.jobs.registry import register
from souverain.jobs.services import Reporter

from . import services


# Idempotent: each delivery is claimed by a conditional update and is sent at most once per claim.
@register(services.JOB_KIND, validate=services.validate_job_params, idempotent=True)
def deliver(job: Job, reporter: Reporter) -> None:
    counts = services.deliver_pending(notification_id=job.params["notification"])
    reporter.add(**counts)


@shared_task(name="souverain.notifications.tasks.retry_due", ignore_result=True)
def retry_due() -> list[int]:
    return services.queue_due()


@shared_task(name="souverain.notifications.tasks.alerts", ignore_result=True)
def alerts() -> int:
    """The periodic alert pass: returns how many alerts it raised."""
    from . import alerts as alert_checks

    return len(alert_checks.run_periodic())
