"""Template helpers of the portal: navigation, country names in the user's language, sovereignty levels."""

from __future__ import annotations

import gettext as gettext_module
import json
from functools import cache
from typing import Any

import pycountry
from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from souverain.core.roles import Role
from souverain.tenancy.permissions import Access, is_allowed, membership_of, memberships_of

register = template.Library()

# (url name, label, who may see it: None = everyone signed in)
NAV = [
    ("portal:overview", _("Estate"), None),
    ("portal:inventory", _("Inventory"), None),
    ("portal:placement", _("Placement"), None),
    ("portal:capacity", _("Capacity"), None),
    ("portal:compliance", _("Compliance"), None),
    ("portal:sync", _("Sync"), Access(read=frozenset({Role.OPERATOR_ADMIN, Role.OPERATOR_OPS, Role.AUDITOR}))),
    ("portal:history", _("History"), None),
    ("portal:notifications", _("Notifications"), None),
    ("portal:tenants", _("Organisation"), None),
    ("portal:requests", _("Requests"), None),
]

LEVELS = {
    "immune": (_("Immune"), _("No non-EU law reaches the data.")),
    "informational": (_("Informational"), _("Non-EU laws reach the data, but none can compel disclosure.")),
    "exposed": (_("Exposed"), _("A non-EU law can compel someone to hand over the data.")),
}

CHANNELS = {
    "legal_control": (_("Legal control"), _("The operator, or an entity up its control chain, is domiciled there.")),
    "data_location": (_("Data location"), _("A primary or backup site is there.")),
    "access": (_("Access"),
               _("Administration, support, the stack vendor or a facility operator has access from there.")),
    "supply_chain": (_("Supply chain"), _("A hardware or software vendor without access is domiciled there.")),
}

STRENGTHS = {"compelled": _("compelled"), "informational": pgettext_lazy("strength", "informational")}
CERT_STATES = {"valid": _("valid"), "expiring": _("expiring soon"), "expired": _("expired"),
               "pending": _("not yet valid")}


@register.simple_tag(takes_context=True)
def portal_nav(context: template.Context) -> list[dict[str, Any]]:
    request = context["request"]
    items = []
    for name, label, access in NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue  # a page whose app has not landed yet
        if access is not None and not is_allowed(request.user, access, "GET"):
            continue
        current = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": label, "current": current})
    return items


@register.filter
def role_label(request: Any) -> str:
    membership = membership_of(getattr(request, "user", None))
    if membership is None:
        return ""
    return _membership_label(membership)


def _membership_label(membership: Any) -> str:
    label = str(Role(membership.role).label) if membership.role in Role.values else membership.role
    return f"{label} · {membership.tenant}" if membership.tenant_id else label


@register.simple_tag
def acting_choices(request: Any) -> list[dict[str, Any]]:
    """The header's "act as" switcher: the user's memberships (none shown for a user who holds only one)."""
    user = getattr(request, "user", None)
    held = memberships_of(user)
    if len(held) < 2:
        return []
    active = membership_of(user)
    return [{"id": m.pk, "label": _membership_label(m), "active": active is not None and m.pk == active.pk}
            for m in held]


@cache
def _country_translations(language: str) -> gettext_module.NullTranslations:
    try:
        return gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    except OSError:
        return gettext_module.NullTranslations()


@register.filter
def country(code: str | None) -> str:
    """"FR" → "France" in the current language (pycountry's ISO 3166 translations)."""
    if not code:
        return ""
    found = pycountry.countries.get(alpha_2=code.upper())
    if found is None:
        return code
    language = (get_language() or "en").split("-")[0]
    if language == "en":
        return getattr(found, "common_name", None) or found.name
    return _country_translations(language).gettext(found.name)


@register.inclusion_tag("portal/includes/level.html")
def level_badge(level: str | None, short: bool = False) -> dict[str, Any]:
    label, meaning = LEVELS.get(level or "", ("—", ""))
    return {"level": level or "unknown", "label": label, "meaning": meaning, "short": short}


@register.filter
def level_label(level: str | None) -> str:
    return str(LEVELS.get(level or "", ("—", ""))[0])


@register.filter
def channel_label(channel: str) -> str:
    return str(CHANNELS.get(channel, (channel, ""))[0])


@register.filter
def channel_meaning(channel: str) -> str:
    return str(CHANNELS.get(channel, ("", ""))[1])


@register.filter
def strength_label(strength: str | None) -> str:
    return str(STRENGTHS.get(strength or "", strength or ""))


@register.filter
def cert_state_label(state: str) -> str:
    return str(CERT_STATES.get(state, state))


@register.filter
def pct(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    if (get_language() or "en").startswith("fr"):
        text = text.replace(".", ",")
    return f"{text} %"


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.filter
def as_json(value: Any) -> str:
    """Indented JSON for display (escaped by the template like any string)."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def key_holder(value: str | None) -> str:
    """A key custody holder ("external_hsm") in words, in the user's language."""
    from souverain.estate.models import Cloud

    return str(Cloud.KeyHolder(value).label) if value in Cloud.KeyHolder.values else (value or "")


@register.filter
def vendor_access(value: str | None) -> str:
    from souverain.estate.models import Cloud

    return str(Cloud.VendorAccess(value).label) if value in Cloud.VendorAccess.values else (value or "")


@register.filter
def cloud_kind(value: str | None) -> str:
    from souverain.estate import cloudkinds

    return cloudkinds.label(value or "")


@register.filter
def kind_label(label: str | None) -> str:
    """A resource kind's label ("Server", from the inventory's registry) in the reader's language: the labels are
    the catalogue's msgids, so the registry stays the one list of kinds."""
    return gettext(str(label)) if label else ""


@register.filter
def severity_label(value: str | None) -> str:
    from souverain.policy.models import Violation

    return str(Violation.Severity(value).label) if value in Violation.Severity.values else (value or "")
