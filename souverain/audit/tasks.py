"""The hourly checkpoint: Celery beat's entry in scale mode, the in-process scheduler's otherwise."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="souverain.audit.tasks.checkpoint", ignore_result=True)
def checkpoint() -> int:
    return services.make_checkpoint().number
