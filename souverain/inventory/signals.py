"""The inventory's signal, for compliance (and anything else) to react to what a sync found.

``inventory_changed`` is sent once per sync job, after all its clouds are done, with:

- ``resource_ids``: sorted ids of every ``Resource`` created, changed, gone or reappeared in that job
  (a resource that only had its ``last_seen`` refreshed is not in it), and of resources whose tenant
  changed because a project mapping changed;
- ``job_id``: the ``jobs.Job`` of the sync (None for mapping changes or when run outside a job).

It is sent with ``send_robust`` from the worker thread that ran the job: a receiver that raises is
logged and does not fail the sync. Receivers that do heavy work should queue a job rather than work
inline. Connect with::

    from souverain.inventory.signals import inventory_changed

    @receiver(inventory_changed)
    def reevaluate(sender, resource_ids, job_id, **kwargs): ...
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

inventory_changed = Signal()


@receiver(post_save, sender="inventory.ProjectMapping")
@receiver(post_delete, sender="inventory.ProjectMapping")
def _reapply_mappings(sender: type, instance: Any, **kwargs: Any) -> None:
    """However a mapping changes (API, admin, estate file), the cloud's resources follow at once."""
    from .services import apply_project_mappings

    changed = apply_project_mappings(instance.cloud_id)
    if changed:
        inventory_changed.send_robust(sender=sender, resource_ids=changed, job_id=None)
