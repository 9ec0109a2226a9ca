"""Compliance as background work: the ``policy.compliance`` job kind, its triggers, and the daily pass.

Triggers: a sync that changed resources (a partial pass over those), a policy activation, an estate file
applied, and every day (dates matter: certificates expire). Jobs run in the in-process worker or on Celery.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.dispatch import receiver

from souverain.estate.signals import estate_applied
from souverain.inventory.signals import inventory_changed
from souverain.jobs.models import Job
from souverain.jobs.registry import register
from souverain.jobs.services import Reporter, submit

from . import compliance
from .shared import warm_placements
from .signals import policy_activated

JOB_KIND = "policy.compliance"
TRIGGERS = {"sync", "policy", "estate", "daily", "manual"}
#: A sync that changed more resources than this gets a full pass instead of a partial one: it costs about the
#: same (both are set-based), and the job row does not carry a list of hundreds of thousands of ids.
PARTIAL_PASS_MAX = 20_000


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    trigger = params.get("trigger", "manual")
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(sorted(TRIGGERS))}")
    ids = params.get("resource_ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
        raise ValueError("resource_ids must be a list of resource ids")
    return {"trigger": trigger, "resource_ids": ids, "on": params.get("on")}


# Idempotent: a pass writes set differences, so a pass whose worker died is queued again.
@register(JOB_KIND, validate=validate_params, idempotent=True)
def run(job: Job, reporter: Reporter) -> None:
    import datetime as dt

    params = job.params
    on = dt.date.fromisoformat(params["on"]) if params.get("on") else None
    reporter.set_progress(0.1, "evaluating")
    result = compliance.evaluate(resource_ids=params.get("resource_ids"), on=on, trigger=params["trigger"])
    reporter.add(resources=result.resources, classes=result.classes, opened=result.opened, resolved=result.resolved)
    # The same triggers change placements' answers: decide the classes users ask about before they ask again.
    reporter.set_progress(0.9, "deciding recent placement classes again")
    reporter.add(placement_classes=warm_placements(result.date))
    reporter.set_progress(1.0, f"{result.opened} opened, {result.resolved} resolved")


def queue(trigger: str, resource_ids: list[int] | None = None) -> Job:
    return submit(JOB_KIND, {"trigger": trigger, "resource_ids": resource_ids}, requested_by=f"{trigger} trigger")


@receiver(inventory_changed)
def _after_sync(sender: Any, resource_ids: list[int], job_id: int | None = None, **kwargs: Any) -> None:
    if resource_ids:
        queue("sync", list(resource_ids) if len(resource_ids) <= PARTIAL_PASS_MAX else None)


@receiver(policy_activated)
def _after_policy_change(sender: Any, **kwargs: Any) -> None:
    queue("policy")


@receiver(estate_applied)
def _after_estate_change(sender: Any, **kwargs: Any) -> None:
    queue("estate")


@shared_task(name="souverain.policy.tasks.daily_compliance", ignore_result=True)
def daily_compliance() -> int:
    return queue("daily").pk
