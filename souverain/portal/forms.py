"""Forms of the portal. Validation beyond field types is the domain's (``policy.workloads``, ``policy.services``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from souverain.estate.models import Region
from souverain.policy.workloads import DATA_CLASSES, EUCS_LEVELS
from souverain.sovereignty.models import Law
from souverain.tenancy.models import Tenant
from souverain.tenancy.permissions import tenant_of

DATA_CLASS_LABELS = {
    "public": _("Public"),
    "internal": _("Internal"),
    "personal": _("Personal data (GDPR)"),
    "special_category": _("Special categories of personal data (GDPR art. 9)"),
    "health": _("Health data"),
    "diffusion_restreinte": _("Diffusion Restreinte (French restricted)"),
    "critical_operator": _("Critical operator data (OIV / OSE)"),
}
EUCS_LABELS = {"basic": _("Basic"), "substantial": _("Substantial"), "high": _("High"), "high_plus": _("High+")}
_COUNTRY_LIST = re.compile(r"^\s*([A-Za-z]{2}\s*(,\s*[A-Za-z]{2}\s*)*)?$")


class PlacementForm(forms.Form):
    """A workload to place: tenant, data classes, requirements and a date (docs/policies.md)."""

    tenant = forms.ChoiceField(label=_("Tenant"), required=False,
                               help_text=_("Its default data classes and requirements apply first."))
    data_classes = forms.MultipleChoiceField(
        label=_("Data classes"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(c, DATA_CLASS_LABELS.get(c, c)) for c in DATA_CLASSES])
    secnumcloud = forms.BooleanField(label=_("SecNumCloud-qualified only"), required=False)
    eu_only = forms.BooleanField(label=_("EU only"), required=False)
    customer_held_keys = forms.BooleanField(label=_("Customer-held encryption keys"), required=False)
    no_exposure_to = forms.MultipleChoiceField(
        label=_("No exposure to"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Foreign laws that must not reach the data through any channel."))
    allowed_countries = forms.CharField(
        label=_("Allowed countries"), required=False, max_length=200,
        help_text=_("ISO codes separated by commas, e.g. FR, DE; empty: any."))
    eucs_level = forms.ChoiceField(label=_("EUCS level"), required=False,
                                   choices=[("", _("none required"))] + [(lv, EUCS_LABELS[lv]) for lv in EUCS_LEVELS])
    preferred = forms.MultipleChoiceField(
        label=_("Preferred regions"), required=False, widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=_("Ranked first when allowed."))
    on = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                         help_text=_("Certificates and laws as on this day; default today."))
    # The workload's size (optional): where it cannot fit in the free capacity, a region is "allowed but full".
    size_vcpu = forms.IntegerField(label=_("vCPU per server"), required=False, min_value=0)
    size_ram_mb = forms.IntegerField(label=_("RAM per server (MiB)"), required=False, min_value=0)
    size_disk_gb = forms.IntegerField(label=_("Disk per server (GiB)"), required=False, min_value=0)
    size_count = forms.IntegerField(label=_("Servers"), required=False, min_value=1)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.own_tenant = tenant_of(user)
        if self.own_tenant is not None:
            self.fields["tenant"].choices = [(self.own_tenant.slug, self.own_tenant.name)]
            self.fields["tenant"].disabled = True
            self.fields["tenant"].initial = self.own_tenant.slug
        else:
            self.fields["tenant"].choices = [("", _("none (no tenant defaults)"))] + list(
                Tenant.objects.order_by("name").values_list("slug", "name"))
        laws = Law.objects.order_by("country", "name").values_list("slug", "name")
        self.fields["no_exposure_to"].choices = list(laws)
        self.fields["preferred"].choices = [
            (f"{c}/{r}", f"{c}/{r}") for c, r in Region.objects.order_by("cloud__slug", "slug")
            .values_list("cloud__slug", "slug")]

    def clean_allowed_countries(self) -> list[str]:
        value = self.cleaned_data.get("allowed_countries", "")
        if not _COUNTRY_LIST.match(value or ""):
            raise forms.ValidationError(_("Give two-letter country codes separated by commas, e.g. FR, DE."))
        return [c.strip().upper() for c in (value or "").split(",") if c.strip()]

    def workload(self) -> dict[str, Any]:
        """The workload document ``policy.services.place`` takes."""
        data = self.cleaned_data
        requirements: dict[str, Any] = {flag: True for flag in ("secnumcloud", "eu_only", "customer_held_keys")
                                        if data.get(flag)}
        if data.get("no_exposure_to"):
            requirements["no_exposure_to"] = list(data["no_exposure_to"])
        if data.get("allowed_countries"):
            requirements["allowed_countries"] = data["allowed_countries"]
        if data.get("eucs_level"):
            requirements["eucs_level"] = data["eucs_level"]
        workload: dict[str, Any] = {"data_classes": list(data.get("data_classes") or []), "requirements": requirements}
        tenant = self.own_tenant.slug if self.own_tenant is not None else data.get("tenant")
        if tenant:
            workload["tenant"] = tenant
        if data.get("preferred"):
            workload["preferences"] = {"regions": list(data["preferred"])}
        size = {key: data[f"size_{key}"] for key in ("vcpu", "ram_mb", "disk_gb", "count")
                if data.get(f"size_{key}") is not None}
        if size:
            workload["size"] = size
        return workload

    def decision_date(self) -> dt.date:
        return self.cleaned_data.get("on") or dt.date.today()


class PolicyUploadForm(forms.Form):
    """An operator's Rego module and its tests; checked by ``policy.services.upload_policy`` like the API."""

    name = forms.CharField(label=_("Policy name"), max_length=80,
                           help_text=_("Lower case letters, digits and _; the module's package is "
                                       "souverain.custom.<name>."))
    description = forms.CharField(label=_("Description"), required=False, max_length=500)
    source = forms.CharField(label=_("Rego module"), widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}))
    tests = forms.CharField(
        label=_("Rego tests"), widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=_("test_ rules; a version is activated only when it compiles and its tests pass."))
