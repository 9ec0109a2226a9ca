"""Where estate and knowledge-base changes reach the exposure alert, without those apps knowing about it: the
estate's own ``estate_applied`` signal, and the creation of a ``KnowledgeBaseRelease`` row (one per changed KB
file, written by ``sovereignty.services.load_knowledge_base``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from souverain.estate.signals import estate_applied
from souverain.sovereignty.models import KnowledgeBaseRelease

from . import alerts


def _estate_applied(sender: Any, **kwargs: Any) -> None:
    alerts.exposure_check_after_commit("estate")


def _kb_release(sender: Any, instance: KnowledgeBaseRelease, created: bool, **kwargs: Any) -> None:
    if created:
        alerts.exposure_check_after_commit("kb")


def connect() -> None:
    estate_applied.connect(_estate_applied, dispatch_uid="notifications-exposure-estate")
    post_save.connect(_kb_release, sender=KnowledgeBaseRelease, dispatch_uid="notifications-exposure-kb")
