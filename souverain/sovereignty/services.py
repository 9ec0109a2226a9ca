"""Loading the knowledge base into the database, idempotently, recording what each new version changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from . import kb as kbfiles
from .models import AdequacyDecision, CertificationScheme, Country, KnowledgeBaseRelease, Law


@dataclass(frozen=True)
class LoadResult:
    file: str
    version: str
    changes: list[dict[str, Any]]


def _rows_countries(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        c["code"]: {
            "name": kbfiles.country_name(c["code"]),
            "eu_member": bool(c.get("eu_member")),
            "eu_since": c.get("eu_since"),
            "eea": bool(c.get("eea") or c.get("eu_member")),
            "source": kbfiles._source_of(doc, c),
        }
        for c in doc.get("countries", [])
    }


def _rows_adequacy(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = {}
    for entry in doc.get("decisions", []):
        key = entry.get("country") or entry.get("organisation")
        rows[key] = {
            "country": entry.get("country") or "",
            "organisation": entry.get("organisation") or "",
            "scope": entry["scope"],
            "decision": entry.get("decision") or "",
            "adopted": entry.get("adopted"),
            "notes": entry.get("notes", "") or "",
            "source": kbfiles._source_of(doc, entry),
        }
    return rows


def _rows_laws(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        entry["id"]: {
            "name": entry["name"],
            "country": entry["country"],
            "citation": entry.get("citation", "") or "",
            "enacted": entry.get("enacted"),
            "summary": entry.get("summary", "") or "",
            "channels": entry.get("channels") or {},
            "source": kbfiles._source_of(doc, entry),
            "checked": entry.get("checked") or doc.get("checked"),
        }
        for entry in doc.get("laws", [])
    }


def _rows_schemes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        entry["id"]: {
            "name": entry["name"],
            "issuer": entry.get("issuer", "") or "",
            "country": entry.get("country") or "",
            "versions": entry.get("versions") or [],
            "levels": entry.get("levels") or [],
            "criteria": entry.get("criteria") or [],
            "source": kbfiles._source_of(doc, entry),
        }
        for entry in doc.get("schemes", [])
    }


_TABLES = {
    "countries": (Country, "code", _rows_countries),
    "adequacy": (AdequacyDecision, "key", _rows_adequacy),
    "laws": (Law, "slug", _rows_laws),
    "certification_schemes": (CertificationScheme, "slug", _rows_schemes),
}


def _comparable(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=str)


def _sync_table(name: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    model, key_field, to_rows = _TABLES[name]
    wanted = to_rows(doc)
    existing = {getattr(obj, key_field): obj for obj in model.objects.all()}
    changes: list[dict[str, Any]] = []
    for key, values in wanted.items():
        obj = existing.pop(key, None)
        if obj is None:
            model.objects.create(**{key_field: key}, **values)
            changes.append({"action": "added", "id": key})
            continue
        before = {f: getattr(obj, f) for f in values}
        # Compare through JSON so a date and its ISO string are equal.
        if _comparable(before) != _comparable(values):
            changed = sorted(f for f in values if _comparable(before[f]) != _comparable(values[f]))
            for f, v in values.items():
                setattr(obj, f, v)
            obj.save()
            changes.append({"action": "changed", "id": key, "fields": changed})
    for key, obj in existing.items():
        obj.delete()
        changes.append({"action": "removed", "id": key})
    return changes


def load_knowledge_base(extra_dir: str | None = None) -> list[LoadResult]:
    """Load every KB file; a file whose content is unchanged since its last load is skipped."""
    documents = kbfiles.read_files(extra_dir if extra_dir is not None else settings.KB_EXTRA_DIR or None)
    results = []
    with transaction.atomic():
        for name, doc in documents.items():
            digest = hashlib.sha256(_comparable(doc).encode()).hexdigest()
            last = KnowledgeBaseRelease.objects.filter(file=name).first()
            if last is not None and last.sha256 == digest:
                results.append(LoadResult(name, last.version, []))
                continue
            changes = _sync_table(name, doc)
            KnowledgeBaseRelease.objects.create(
                file=name, version=str(doc.get("version", "")), checked=doc.get("checked"), sha256=digest,
                changes=changes,
            )
            results.append(LoadResult(name, str(doc.get("version", "")), changes))
    return results


def current_knowledge_base() -> kbfiles.KnowledgeBase:
    """The KB as loaded in the database (falls back to the packaged files when nothing is loaded yet)."""
    if not Country.objects.exists():
        return kbfiles.packaged(settings.KB_EXTRA_DIR or None)
    countries = list(Country.objects.all())
    laws = tuple(
        kbfiles.LawInfo(slug=law.slug, name=law.name, country=law.country, citation=law.citation,
                        channels=law.channels, source=law.source)
        for law in Law.objects.all()
    )
    adequacy = tuple(
        {"country": a.country or None, "organisation": a.organisation or None, "scope": a.scope,
         "decision": a.decision, "source": a.source}
        for a in AdequacyDecision.objects.all()
    )
    versions: dict[str, str] = {}
    for release in KnowledgeBaseRelease.objects.order_by("-loaded_at", "-id"):
        versions.setdefault(release.file, release.version)
    return kbfiles.KnowledgeBase(
        eu_countries=frozenset(c.code for c in countries if c.eu_member),
        eea_countries=frozenset(c.code for c in countries if c.eea),
        country_names={c.code: c.name for c in countries},
        adequacy=adequacy,
        laws=laws,
        schemes={s.slug: {"id": s.slug, "name": s.name, "levels": s.levels} for s in CertificationScheme.objects.all()},
        versions=versions,
    )
