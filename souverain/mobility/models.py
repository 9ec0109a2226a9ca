"""Mobility models: the workloads tenants keep, so that a what-if can say whose placement would flip.

A ``SavedWorkload`` is a placement descriptor (docs/policies.md) saved from the placement simulator or the API,
owned by a tenant (or by the operator, tenant empty). The what-if places every saved workload the reader may see
against the live estate and against the changed one and reports the regions each loses or gains.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from souverain.core.models import ChangeLoggedModel


class SavedWorkload(ChangeLoggedModel):
    tenant = models.ForeignKey("tenancy.Tenant", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="saved_workloads", verbose_name=_("tenant"))
    name = models.CharField(_("name"), max_length=120)
    descriptor = models.JSONField(_("workload"), default=dict,
                                  help_text=_("The workload descriptor, as the placement simulator takes it."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["tenant__slug", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="mobility_savedworkload_unique_name")]
        verbose_name = _("saved workload")
        verbose_name_plural = _("saved workloads")

    def __str__(self) -> str:
        return self.name
