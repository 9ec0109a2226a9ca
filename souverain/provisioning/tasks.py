"""Periodic work of provisioning: expiring requests left awaiting approval (Celery beat in scale mode, the
in-process scheduler otherwise; entry ``provisioning-expiry`` of ``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="souverain.provisioning.tasks.expire_waiting", ignore_result=True)
def expire_waiting() -> int:
    return len(services.expire_waiting())
