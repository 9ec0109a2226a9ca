"""An evidence pack's PDF report: the facts of ``evidence.json`` for people, in French or English (WeasyPrint).

The report's own words are data here (``WORDS``), in both languages, rather than in the shared catalogue: the
pack's language is the caller's choice, not the request's, and an auditor's report must not change wording
when the portal's translations are edited. Explanation lines (ownership tests, exposure chains) are rendered
from their message ids in the pack's language (``ownership.Line.render`` with Django's catalogue), rule
reasons from their ``message``/``message_fr`` pair.

Reproducible (see /work/shared/recipes/weasyprint.md): the ``dcterms.created``/``modified`` metas are the
pack's date, so WeasyPrint writes exactly those dates; it adds no random ``/ID`` in the default variant; fonts
are pinned to DejaVu Sans (on ``html``, so the page footer uses it too) and the subset tags come from a hash.
"""

from __future__ import annotations

import logging
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from souverain.estate.ownership import Line, _pct
from souverain.sovereignty.services import current_knowledge_base

WORDS: dict[str, dict[str, str]] = {
    "title": {"en": "Sovereignty evidence pack", "fr": "Dossier de preuves de souveraineté"},
    "date": {"en": "Date", "fr": "Date"},
    "scope": {"en": "Scope", "fr": "Périmètre"},
    "tenant": {"en": "Tenant", "fr": "Locataire"},
    "region": {"en": "Region", "fr": "Région"},
    "resources": {"en": "Resources", "fr": "Ressources"},
    "policy_set": {"en": "Policy set version", "fr": "Version du jeu de politiques"},
    "packs": {"en": "Packs", "fr": "Paquets de règles"},
    "kb": {"en": "Knowledge base", "fr": "Base de connaissances"},
    "regions": {"en": "Regions", "fr": "Régions"},
    "cloud": {"en": "Cloud", "fr": "Cloud"},
    "level": {"en": "Sovereignty level", "fr": "Niveau de souveraineté"},
    "operator_chain": {"en": "Operator's control chain", "fr": "Chaîne de contrôle de l'opérateur"},
    "ownership": {"en": "Ownership test", "fr": "Test de détention"},
    "primary": {"en": "Primary datacenters", "fr": "Centres de données principaux"},
    "backup": {"en": "Backup datacenters", "fr": "Centres de données de secours"},
    "laws": {"en": "Laws that reach it", "fr": "Lois qui l'atteignent"},
    "no_law": {"en": "No foreign law reaches this region.", "fr": "Aucune loi étrangère n'atteint cette région."},
    "channel": {"en": "Channel", "fr": "Canal"},
    "strength": {"en": "Strength", "fr": "Force"},
    "explanation": {"en": "Explanation", "fr": "Explication"},
    "certificates": {"en": "Certificates valid on the date", "fr": "Certificats valides à la date"},
    "no_certificate": {"en": "None.", "fr": "Aucun."},
    "source": {"en": "Source", "fr": "Source"},
    "valid": {"en": "Valid", "fr": "Validité"},
    "resource": {"en": "Resource", "fr": "Ressource"},
    "kind": {"en": "Kind", "fr": "Type"},
    "decision": {"en": "Decision", "fr": "Décision"},
    "allowed": {"en": "allowed", "fr": "autorisé"},
    "denied": {"en": "denied", "fr": "refusé"},
    "not_evaluated": {"en": "not evaluated (holds no data)", "fr": "non évalué (ne contient pas de données)"},
    "reasons": {"en": "Reasons", "fr": "Motifs"},
    "warnings": {"en": "Warnings", "fr": "Avertissements"},
    "violations": {"en": "Violations history", "fr": "Historique des non-conformités"},
    "first_seen": {"en": "first seen", "fr": "constatée le"},
    "resolved": {"en": "resolved", "fr": "résolue le"},
    "open": {"en": "open on the date", "fr": "ouverte à la date"},
    "no_resource": {"en": "No resource in scope on this date.",
                    "fr": "Aucune ressource dans le périmètre à cette date."},
    "checkpoint": {"en": "Audit checkpoint", "fr": "Point de contrôle de l'audit"},
    "no_checkpoint": {"en": "No audit checkpoint has been signed yet.",
                      "fr": "Aucun point de contrôle d'audit n'a encore été signé."},
    "covers": {"en": "covers the whole date", "fr": "couvre toute la date"},
    "latest": {"en": "the latest, signed before the date's end", "fr": "le dernier, signé avant la fin de la date"},
    "records": {"en": "records", "fr": "enregistrements"},
    "head": {"en": "chain head", "fr": "tête de chaîne"},
    "key": {"en": "key", "fr": "clé"},
    "verify": {"en": "Check this pack offline: souverain evidence verify pack.zip --public-key key.pem",
               "fr": "Vérifier ce dossier hors ligne : souverain evidence verify pack.zip --public-key cle.pem"},
}
CHANNELS = {
    "legal_control": {"en": "legal control", "fr": "contrôle juridique"},
    "data_location": {"en": "data location", "fr": "localisation des données"},
    "access": {"en": "access", "fr": "accès"},
    "supply_chain": {"en": "supply chain", "fr": "chaîne d'approvisionnement"},
}
STRENGTHS = {"compelled": {"en": "compelled", "fr": "contraignante"},
             "informational": {"en": "informational", "fr": "informative"}}
LEVELS = {"immune": {"en": "immune", "fr": "immunisée"}, "informational": {"en": "informational", "fr": "informative"},
          "exposed": {"en": "exposed", "fr": "exposée"}}


def _pick(table: dict[str, dict[str, str]], key: str | None, language: str) -> str:
    return (table.get(key or "") or {}).get(language) or (key or "")


def _reason(entry: dict[str, Any], language: str) -> dict[str, str]:
    suffix = "_fr" if language == "fr" else ""
    return {"rule": entry.get("rule", ""), "message": entry.get(f"message{suffix}") or entry.get("message", ""),
            "source": entry.get(f"source{suffix}") or entry.get("source", "")}


def _context(facts: dict[str, Any], language: str) -> dict[str, Any]:
    kb = current_knowledge_base()
    formats = {"_pct": _pct, "country": kb.country_name}
    with translation.override(language):
        def line(item: dict[str, Any]) -> str:
            return Line.render(item, translation.gettext, formats)

        regions = []
        for region in facts["regions"]:
            regions.append({
                **region,
                "level_text": _pick(LEVELS, region["level"], language),
                "ownership_text": [line(item) for item in region["ownership_lines"]],
                "laws": [{**law, "channels": [
                    {**path, "channel_text": _pick(CHANNELS, path["channel"], language),
                     "strength_text": _pick(STRENGTHS, path["strength"], language),
                     "steps": [line(link) for link in path["chain"]]} for path in law["channels"]]}
                    for law in region["laws"]],
            })
    resources = []
    for resource in facts["resources"]:
        decision = resource["decision"]
        resources.append({
            **resource,
            "deny": [_reason(d, language) for d in (decision or {}).get("deny", [])],
            "warn": [_reason(w, language) for w in (decision or {}).get("warn", [])],
        })
    scope = facts["scope"]
    scope_text = (f"{_pick(WORDS, 'tenant', language)} {scope['tenant']['name']} ({scope['tenant']['slug']})"
                  if "tenant" in scope else
                  f"{_pick(WORDS, 'region', language)} {scope['region']}" if "region" in scope else
                  f"{_pick(WORDS, 'resources', language)} {', '.join(map(str, scope['resources']))}")
    return {"w": {key: value[language] for key, value in WORDS.items()}, "facts": facts, "lang": language,
            "regions": regions, "resources": resources, "scope_text": scope_text,
            "created": f"{facts['date']}T00:00:00Z"}


def render_html(facts: dict[str, Any], language: str) -> str:
    return render_to_string("audit/evidence_report.html", _context(facts, language))


def render(facts: dict[str, Any], language: str) -> bytes:
    from weasyprint import HTML  # half a second to import: only when a pack is built

    html = render_html(facts, language)
    weasy_log = logging.getLogger("weasyprint")
    previous = weasy_log.level
    weasy_log.setLevel(logging.ERROR)  # font-subsetting chatter; errors still reach the logs
    try:
        return HTML(string=html, base_url=None).write_pdf()
    finally:
        weasy_log.setLevel(previous)
