"""A what-if answer as a readable report (Markdown, which reads as plain text too), in English or French.

The JSON answer (``services.answer``) is the reference; this is its reading for people: the CLI's ``--format
text``, the API's ``format=markdown`` and the documentation's examples. Exposure chains are rendered from their
translatable lines (``ownership.Line``), rule messages from the rules' own ``message_fr``.
"""

from __future__ import annotations

import gettext as gettext_module
from functools import cache
from typing import Any

import pycountry
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from souverain.estate.ownership import Line
from souverain.sovereignty import kb as kbfiles
from souverain.sovereignty.kb import country_name


@cache
def _country_names(language: str) -> gettext_module.NullTranslations:
    try:
        return gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    except OSError:
        return gettext_module.NullTranslations()


def _country(code: Any) -> str:
    """A country's name in the current language (pycountry's ISO 3166 translations), as the portal says it."""
    if not (isinstance(code, str) and len(code) == 2):
        return str(code)
    found = pycountry.countries.get(alpha_2=code.upper())
    language = (translation.get_language() or "en").split("-")[0]
    if found is None or language == "en":
        return country_name(code)
    return _country_names(language).gettext(found.name)


def _vendor_access(value: Any) -> str:
    from souverain.estate.models import Cloud

    return str(Cloud.VendorAccess(value).label) if value in Cloud.VendorAccess.values else str(value or "")


_FORMATS = {"_pct": lambda v: f"{v:g} %", "country": _country, "vendor_access": _vendor_access}


@cache
def _law_names(extra_dir: str) -> dict[str, dict[str, str]]:
    documents = kbfiles.read_files(extra_dir or None)
    return {law["id"]: {"en": law["name"], **(law.get("names") or {})} for law in documents["laws"].get("laws", [])}


def _law(slug: str, fallback: str, language: str) -> str:
    """A law's name in the reader's language (the knowledge base files' ``names``), else the English one."""
    return _law_names(getattr(settings, "KB_EXTRA_DIR", "") or "").get(slug, {}).get(language) or fallback


def _strength(name: str) -> str:
    return {"compelled": _("compelled"), "informational": _("informational")}.get(name, name)


def _capacity(status: str | None) -> str:
    return {"fits": _("fits"), "full": _("allowed but full"), "unknown": _("capacity unknown")}.get(
        status or "unknown", status or "")


def _channel(name: str) -> str:
    return {"legal_control": _("legal control"), "data_location": _("data location"), "access": _("access"),
            "supply_chain": _("supply chain")}.get(name, name)


def _level(name: str | None) -> str:
    return {"immune": _("immune"), "informational": _("informational"), "exposed": _("exposed")}.get(
        name or "", name or "—")


def _chain(path: dict[str, Any], language: str) -> str:
    if language == "en":
        return str(path["explanation"])
    links = [Line.render(link, _, _FORMATS) for link in path["chain"]]
    return " ← ".join(links) + f" → {_law(path['law'], path['law_name'], language)}"


def markdown(answer: dict[str, Any], language: str = "en") -> str:
    with translation.override(language):
        return _markdown(answer, language)


def _markdown(answer: dict[str, Any], language: str) -> str:
    out: list[str] = []
    title = answer.get("title") or _("What if…")
    out.append(f"# {title}")
    out.append("")
    out.append(_("Date of the question: %(date)s. Nothing was written: the live estate is compared with its changed "
                 "copy.") % {"date": answer["date"]})
    if answer["scope"].get("tenant"):
        out.append(_("Only the resources and workloads of tenant %(tenant)s are counted.")
                   % {"tenant": answer["scope"]["tenant"]})
    out.append("")
    out.append("## " + _("Regions"))
    for region in answer["regions"]:
        if region["status"] == "same":
            continue
        level = region["level"]
        out.append("")
        out.append(f"### {region['region']} — {region['name']}")
        out.append(_("Sovereignty level: %(before)s → %(after)s") % {"before": _level(level["before"]),
                                                                     "after": _level(level["after"])})
        for law in region["newly_reaching_laws"]:
            out.append("- " + _("Newly reaching: %(law)s (%(country)s), through %(channels)s") % {
                "law": _law(law["law"], law["name"], language), "country": law["country"],
                "channels": ", ".join(_channel(c) for c in law["channels"])})
        for path in region["new_paths"]:
            out.append(f"  - {_channel(path['channel'])} ({_strength(path['strength'])}): {_chain(path, language)}")
        for path in region["gone_paths"]:
            out.append("- " + _("No longer reaching: %(law)s through %(channel)s") % {
                "law": _law(path["law"], path["law_name"], language), "channel": _channel(path["channel"])})
        for cert in region["certificates"]["lapsed"]:
            out.append("- " + _("Certificate no longer valid: %(scheme)s %(version)s") % cert)
        ownership = region["ownership"]
        if ownership["before"] and ownership["after"]:
            verdict = {True: _("passed"), False: _("failed")}
            out.append("- " + _("SecNumCloud ownership test: %(before)s → %(after)s") % {
                "before": verdict[ownership["before"]["passed"]], "after": verdict[ownership["after"]["passed"]]})
    unchanged = [r["region"] for r in answer["regions"] if r["status"] == "same"]
    if unchanged:
        out.append("")
        out.append(_("Unchanged regions: %(regions)s") % {"regions": ", ".join(unchanged)})
    res = answer["resources"]
    out.append("")
    out.append("## " + _("Resources"))
    out.append(_("%(evaluated)s resources evaluated in %(classes)s classes: %(new)s would become non-compliant, "
                 "%(fixed)s would become compliant, %(kept)s stay non-compliant, %(same)s are not affected.") % {
        "evaluated": res["evaluated"], "classes": res["classes"], "new": res["newly_non_compliant"],
        "fixed": res["newly_compliant"], "kept": res["still_non_compliant"], "same": res["unchanged"]})
    for heading, rows, key in ((_("By tenant"), res["by_tenant"], "tenant"),
                               (_("By data class"), res["by_data_class"], "data_class"),
                               (_("By rule"), res["by_rule"], "rule")):
        if rows:
            out.append("")
            out.append(f"**{heading}**")
            for row in rows:
                extra = f" ({row['severity']})" if key == "rule" else ""
                out.append(f"- {row[key] or '—'}{extra}: {row['resources']}")
    if res["groups"]:
        out.append("")
        out.append(f"**{_('Affected groups and where they could go')}**")
        for group in res["groups"]:
            new = ", ".join(f"{r['rule']} ({r['severity']})" for r in group["new"]) or "—"
            if group.get("could_go") is None:
                goes = _("(not computed)")
            else:
                goes = ", ".join(f"{d['region']} ({_capacity(d.get('capacity'))})" for d in group["could_go"]) \
                    or _("nowhere")
            out.append("- " + _("%(count)s resource(s) of %(tenant)s in %(region)s: %(rules)s; could go to "
                                "%(regions)s") % {"count": group["resources"], "tenant": group["tenant"] or "—",
                                                  "region": group["region"], "rules": new, "regions": goes})
    if res["list"]:
        out.append("")
        out.append(f"**{_('Resources that would become non-compliant')}**")
        for item in res["list"]:
            rules = ", ".join(r["rule"] for r in item["rules"])
            out.append(f"- {item['kind']} {item['name']} ({item['region']}, {item['tenant'] or '—'}): {rules}")
        if res["truncated"]:
            out.append(_("(first %(listed)s of %(total)s)") % {"listed": res["listed"],
                                                              "total": res["newly_non_compliant"]})
    if answer["saved_workloads"]:
        out.append("")
        out.append("## " + _("Saved workloads"))
        for saved in answer["saved_workloads"]:
            if saved.get("error"):
                out.append(f"- {saved['name']}: {saved['error']}")
                continue
            lost = ", ".join(x["region"] for x in saved["lost"]) or "—"
            gained = ", ".join(saved["gained"]) or "—"
            out.append("- " + _("%(name)s: loses %(lost)s; gains %(gained)s; best region %(before)s → %(after)s") % {
                "name": saved["name"], "lost": lost, "gained": gained,
                "before": saved["best"]["before"] or "—", "after": saved["best"]["after"] or "—"})
    if answer.get("fit"):
        out.append("")
        out.append("## " + _("Would tenant %(tenant)s fit?") % {"tenant": answer["fit"]["tenant"]})
        for key, verdict in answer["fit"]["regions"].items():
            message = verdict.get("message_fr" if language == "fr" else "message") or _capacity(verdict["status"])
            out.append(f"- {key}: {message}")
    out.append("")
    return "\n".join(out)
