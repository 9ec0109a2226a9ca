"""Change logging's signal receivers, connected per change-logged model.

Receivers are connected with ``sender=<each ChangeLoggedModel subclass>`` (``connect_change_logging``, called
from ``CoreConfig.ready``), never for every sender: Django deletes a queryset in one set-based ``DELETE``
only when no ``pre_delete``/``post_delete`` receiver listens to its model, so a global receiver would make
every bulk delete (violations, resources, history) load each row into memory first.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from . import events
from .context import current_actor
from .models import ChangeLoggedModel, ObjectChange


def _normalise(snapshot: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so that stored and compared snapshots have the same types (dates as strings).
    return json.loads(json.dumps(snapshot, cls=DjangoJSONEncoder))


def _record(instance: ChangeLoggedModel, action: str, before: dict | None, after: dict | None) -> None:
    if action == ObjectChange.Action.UPDATE and before == after:
        return
    actor = current_actor()
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=True)
    # The history row and its audit record (events' recorders) commit together, or not at all.
    with transaction.atomic(savepoint=False):
        ObjectChange.objects.create(
            username=actor.username if actor else "system",
            request_id=actor.request_id if actor else "",
            client_request_id=actor.client_request_id if actor else "",
            tenant_id=instance.changelog_tenant_id(),
            source=actor.source if actor else "system",
            action=action,
            content_type=content_type,
            object_id=str(instance.pk),
            object_repr=str(instance)[:200],
            before=before,
            after=after,
        )
        events.emit(f"object.{action}", object_type=f"{content_type.app_label}.{content_type.model}",
                     object_id=str(instance.pk), object_repr=str(instance)[:200],
                     data={"before": before, "after": after})


def _remember_before(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or not isinstance(instance, ChangeLoggedModel) or instance._state.adding:
        return
    previous = type(instance).objects.filter(pk=instance.pk).first()
    instance._changelog_before = _normalise(previous.snapshot()) if previous else None


def _log_save(sender: type, instance: Any, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not isinstance(instance, ChangeLoggedModel):
        return
    after = _normalise(instance.snapshot())
    if created:
        _record(instance, ObjectChange.Action.CREATE, None, after)
    else:
        _record(instance, ObjectChange.Action.UPDATE, getattr(instance, "_changelog_before", None), after)


def _log_delete(sender: type, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, ChangeLoggedModel):
        _record(instance, ObjectChange.Action.DELETE, _normalise(instance.snapshot()), None)


@receiver(m2m_changed)
def _log_m2m(sender: type, instance: Any, action: str, **kwargs: Any) -> None:
    if not isinstance(instance, ChangeLoggedModel) or action not in {"pre_add", "pre_remove", "pre_clear"}:
        if isinstance(instance, ChangeLoggedModel) and action in {"post_add", "post_remove", "post_clear"}:
            before = getattr(instance, "_changelog_m2m_before", None)
            _record(instance, ObjectChange.Action.UPDATE, before, _normalise(instance.snapshot()))
        return
    instance._changelog_m2m_before = _normalise(instance.snapshot())


def connect_change_logging(models: Any) -> list[type]:
    """Connect the save and delete receivers to every concrete change-logged model; returns those models."""
    connected = []
    for model in models:
        if not issubclass(model, ChangeLoggedModel) or model._meta.abstract or model._meta.proxy:
            continue
        uid = f"changelog:{model._meta.label}"
        pre_save.connect(_remember_before, sender=model, dispatch_uid=uid)
        post_save.connect(_log_save, sender=model, dispatch_uid=uid)
        post_delete.connect(_log_delete, sender=model, dispatch_uid=uid)
        connected.append(model)
    return connected
