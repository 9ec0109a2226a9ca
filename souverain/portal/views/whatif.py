"""What if…: a form over a region's profile (its cloud's stack vendor and access, support staff, backup sites,
a certificate's end, or a change file's text), and the before/after answer with the estate map on each side.

The page only reads (``mobility.services.answer`` writes nothing), so it is a GET form like the placement
simulator: a what-if can be bookmarked and shared. A tenant user sees only their tenant's resources and the clouds
they may see, as in the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from souverain.core.roles import ALL_ROLES
from souverain.estate import db_snapshot
from souverain.estate.estatefile import EstateFileError
from souverain.estate.models import Cloud, Datacenter, LegalEntity, Region
from souverain.estate.snapshot import EstateData
from souverain.mobility import services as whatif_services
from souverain.mobility.changes import VENDOR_ACCESS, ChangeFileError
from souverain.tenancy.permissions import Access, PortalAccessMixin, scope_queryset, sees_dedicated

from .. import geo, maps
from ..wording import chain_steps, law_name
from .base import RoleContextMixin

REGION_ACCESS = Access(read=ALL_ROLES, dedicated_lookup="cloud__dedicated_to")


class WhatIfForm(forms.Form):
    region = forms.ChoiceField(label=_("Region"))
    like = forms.ChoiceField(label=_("Move onto the stack of cloud"), required=False,
                             help_text=_("Its vendor, distribution and hardware."))
    vendor = forms.ChoiceField(label=_("Stack vendor"), required=False)
    vendor_access = forms.ChoiceField(label=_("Vendor access"), required=False)
    support = forms.CharField(label=_("Support staff countries"), required=False, max_length=200,
                              help_text=_("ISO codes separated by commas, e.g. FR, MA; empty: unchanged."))
    backups = forms.MultipleChoiceField(label=_("Move backups to"), required=False,
                                        widget=forms.SelectMultiple(attrs={"size": 4}))
    certificate = forms.CharField(label=_("End the certificate"), required=False, max_length=40,
                                  help_text=_("Its scheme, e.g. secnumcloud."))
    certificate_end = forms.DateField(label=_("on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    patch = forms.CharField(label=_("Or a change file (YAML)"), required=False, max_length=100_000,
                            widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
                            help_text=_("Replaces the fields above (docs/what-if.md)."))
    on = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = scope_queryset(Region.objects.select_related("cloud"), user, REGION_ACCESS)
        self.fields["region"].choices = [(r.pk, r.key) for r in regions.order_by("cloud__slug", "slug")]
        clouds = [c for c in Cloud.objects.prefetch_related("dedicated_to").order_by("slug")
                  if sees_dedicated(user, [t.slug for t in c.dedicated_to.all()])]
        self.fields["like"].choices = [("", _("unchanged"))] + [(c.slug, c.name) for c in clouds]
        self.fields["vendor"].choices = [("", _("unchanged"))] + list(
            LegalEntity.objects.order_by("name").values_list("slug", "name"))
        self.fields["vendor_access"].choices = [("", _("unchanged"))] + [(a, a.replace("_", " ")) for a in
                                                                            VENDOR_ACCESS]
        self.fields["backups"].choices = list(Datacenter.objects.order_by("name").values_list("slug", "name"))

    def changes(self) -> dict[str, Any] | str:
        """The change document of the fields, or the change file's text when one was given."""
        data = self.cleaned_data
        if data.get("patch", "").strip():
            return data["patch"]
        region = Region.objects.select_related("cloud").get(pk=data["region"])
        items: list[dict[str, Any]] = []
        stack = {k: data[k] for k in ("like", "vendor", "vendor_access") if data.get(k)}
        if stack:
            items.append({"stack": {"region": region.key, **stack}})
        if data.get("support"):
            items.append({"staff": {"region": region.key,
                                    "support": [c.strip().upper() for c in data["support"].split(",") if c.strip()]}})
        if data.get("backups"):
            items.append({"backups": {"region": region.key, "datacenters": list(data["backups"])}})
        if data.get("certificate"):
            items.append({"certificate_ends": {"cloud": region.cloud.slug, "scheme": data["certificate"].strip(),
                                               "on": (data.get("certificate_end") or data.get("on")
                                                      or _today()).isoformat()}})
        return {"title": "", "changes": items}


def _today() -> Any:
    from django.utils import timezone

    return timezone.localdate()


def _map(estate: EstateData, levels: dict[str, str | None], urls: dict[str, str], user: Any) -> maps.EstateMap | None:
    """The estate map of one side of the answer: regions coloured by their level on that side."""
    regions, dc_levels, number = [], {}, 0
    for cloud in sorted(estate.clouds.values(), key=lambda c: c.name.casefold()):
        if not sees_dedicated(user, cloud.dedicated_to):
            continue
        for region in sorted(cloud.regions.values(), key=lambda r: r.id):
            key = f"{cloud.id}/{region.id}"
            level = levels.get(key)
            if level is None:
                continue
            number += 1
            datacenters = [(d, "primary") for d in region.datacenters] + [
                (d, "backup") for d in region.backup_datacenters]
            regions.append(maps.RegionInput(number, key, region.name, urls.get(key, ""), level, datacenters))
            for slug, _role in datacenters:
                dc_levels.setdefault(slug, []).append(level)
    sites = [maps.SiteInput(dc.id, dc.name, dc.country, dc.city, maps.worst_level(dc_levels[dc.id]))
             for dc in estate.datacenters.values() if dc.id in dc_levels]
    if not regions:
        return None
    return maps.build_map(maps.default_view(sites) if sites else geo.EUROPE, sites, regions)


class WhatIfView(PortalAccessMixin, RoleContextMixin, TemplateView):
    # A what-if only reads: every role may ask; tenant users get their tenant's resources only (as the API).
    access = Access(read=ALL_ROLES)
    template_name = "portal/whatif.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = self.request
        submitted = "run" in request.GET
        initial = {"region": request.GET.get("region")} if not submitted else None
        form = WhatIfForm(request.GET if submitted else None, initial=initial, user=request.user)
        context["form"] = form
        if not (submitted and form.is_valid()):
            return context
        changes = form.changes()
        on = form.cleaned_data.get("on")
        try:
            if isinstance(changes, str):
                question = whatif_services.change_question(changes, "change", on)
            else:
                if not changes["changes"]:
                    context["problems"] = [_("Change at least one field, or give a change file.")]
                    return context
                question = whatif_services.change_question_from_data(changes, on)
        except (ChangeFileError, EstateFileError) as exc:
            context["problems"] = [str(problem) for problem in exc.problems]
            return context
        answer = whatif_services.answer(question, user=request.user, on=on)
        context["answer"] = answer
        context["regions"] = [self._region(r) for r in answer["regions"] if r["status"] != "same"]
        context["unchanged"] = [r["region"] for r in answer["regions"] if r["status"] == "same"]
        live = db_snapshot.from_database()
        after, _kb = question.after(live, whatif_services.current_knowledge_base())
        urls = {key: reverse("portal:region", args=[pk]) for pk, key in
                ((r.pk, r.key) for r in Region.objects.select_related("cloud"))}
        context["map_before"] = _map(live, {r["region"]: r["level"]["before"] for r in answer["regions"]}, urls,
                                     request.user)
        context["map_after"] = _map(after, {r["region"]: r["level"]["after"] for r in answer["regions"]}, urls,
                                    request.user)
        return context

    @staticmethod
    def _region(region: dict[str, Any]) -> dict[str, Any]:
        paths = [{**path, "steps": chain_steps(path)} for path in region["new_paths"]]
        laws = [{**law, "name": law_name(law["law"], law["name"])} for law in region["newly_reaching_laws"]]
        return {**region, "paths": paths, "newly_reaching_laws": laws}


