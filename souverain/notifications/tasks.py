"""The notifications' background work: the delivery and exposure-check job kinds, and the periodic retry and alert
passes (``CELERY_BEAT_SCHEDULE``, run by Celery beat or the in-process scheduler)."""

from __future__ import annotations

from celery import shared_task

from souverain.jobs.models import Job
from souverain.jobs.registry import register
from souverain.jobs.services import Reporter

from . import alerts as alert_checks
from . import services


# Idempotent: each delivery is claimed by a conditional update, so a job run again sends only what is still due.
@register(services.JOB_KIND, validate=services.validate_job_params, idempotent=True)
def deliver(job: Job, reporter: Reporter) -> None:
    reporter.add(**services.deliver_pending(notification_id=job.params["notification"]))


# Idempotent: the check compares with the exposure last seen and tells each change once (dedup keys).
@register(alert_checks.EXPOSURE_JOB_KIND, validate=alert_checks.validate_exposure_params, idempotent=True)
def exposure(job: Job, reporter: Reporter) -> None:
    reporter.add(alerts=alert_checks.run_exposure_job(job.params))


@shared_task(name="souverain.notifications.tasks.retry_due", ignore_result=True)
def retry_due() -> list[int]:
    return services.queue_due()


@shared_task(name="souverain.notifications.tasks.alerts", ignore_result=True)
def alerts() -> int:
    """The periodic alert pass: returns how many notifications it raised."""
    return len(alert_checks.run_periodic())


@shared_task(name="souverain.notifications.tasks.verify_audit", ignore_result=True)
def verify_audit() -> bool:
    """The daily verification of the whole audit chain; True when it verifies (a failure is an alert)."""
    return alert_checks.check_audit(full=True) is None
