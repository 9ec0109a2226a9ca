"""The knowledge base as plain data: read from the packaged YAML files or from the database.

Files (``souverain/kb/*.yaml``, each with a JSON Schema beside it): countries, adequacy, laws,
certification_schemes. Operators add laws (or any other entries) in ``SOUVERAIN_KB_EXTRA_DIR``
with the same file names; extra entries are merged by id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pycountry
import yaml

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KB_FILES = ("countries", "adequacy", "laws", "certification_schemes")
CHANNELS = ("legal_control", "data_location", "access", "supply_chain")


class KnowledgeBaseError(ValueError):
    pass


@dataclass(frozen=True)
class LawInfo:
    slug: str
    name: str
    country: str
    citation: str
    channels: dict[str, dict[str, Any]]
    source: dict[str, Any]

    def strength(self, channel: str) -> str | None:
        entry = self.channels.get(channel)
        return entry.get("strength") if entry else None


@dataclass(frozen=True)
class KnowledgeBase:
    eu_countries: frozenset[str]
    eea_countries: frozenset[str]
    country_names: dict[str, str]
    adequacy: tuple[dict[str, Any], ...]
    laws: tuple[LawInfo, ...]
    schemes: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def is_eu(self, country: str) -> bool:
        return country in self.eu_countries

    def is_eea(self, country: str) -> bool:
        return country in self.eea_countries

    def country_name(self, code: str) -> str:
        return self.country_names.get(code) or country_name(code)

    def laws_of(self, country: str) -> list[LawInfo]:
        return [law for law in self.laws if law.country == country]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.versions, sort_keys=True).encode()).hexdigest()[:16]

    def as_policy_input(self, dpf_certified: list[str]) -> dict[str, Any]:
        return {
            "eu_countries": sorted(self.eu_countries),
            "eea_countries": sorted(self.eea_countries),
            "adequacy": [{"country": a["country"], "scope": a["scope"]} for a in self.adequacy if a.get("country")],
            "dpf_certified": sorted(dpf_certified),
            # Every law the knowledge base knows, with its country: the no_foreign_law requirement covers the
            # non-EU ones, including laws added later, and an excluded law id is checked against these.
            "laws": [{"id": law.slug, "country": law.country} for law in sorted(self.laws, key=lambda law: law.slug)],
        }


def country_name(code: str) -> str:
    found = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(found, "common_name", None) or getattr(found, "name", None) or code


def is_country_code(code: Any) -> bool:
    return isinstance(code, str) and len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None


def _read_yaml(path: Path | Any) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    # libyaml's loader when PyYAML has it (Debian's and PyPI's wheels do): the same YAML 1.1 safe resolver as
    # yaml.safe_load, about ten times faster — the KB is read on every start and every offline what-if.
    data = yaml.load(text, Loader=_SAFE_LOADER) or {}
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path}: the top level must be a mapping")
    return data


def _schema(name: str) -> dict[str, Any] | None:
    candidate = resources.files("souverain.kb").joinpath(f"{name}.schema.json")
    return json.loads(candidate.read_text(encoding="utf-8")) if candidate.is_file() else None


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def read_files(extra_dir: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Read and validate every KB file; extra entries (same file names) are merged in by id."""
    documents: dict[str, dict[str, Any]] = {}
    for name in KB_FILES:
        packaged = resources.files("souverain.kb").joinpath(f"{name}.yaml")
        doc = _to_jsonable(_read_yaml(packaged))
        _validate(name, doc, f"souverain/kb/{name}.yaml")
        if extra_dir:  # operators' additions, validated against the same schemas
            extra = Path(extra_dir) / f"{name}.yaml"
            if extra.is_file():
                extra_doc = _to_jsonable(_read_yaml(extra))
                _validate(name, extra_doc, str(extra))
                doc = _merge(name, doc, extra_doc)
        documents[name] = doc
    return documents


def _validate(name: str, doc: dict[str, Any], where: str) -> None:
    schema = _schema(name)
    if schema is None:
        return
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{where}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]
        raise KnowledgeBaseError("invalid knowledge base file:\n" + "\n".join(lines))


_LIST_KEYS = {"countries": ("countries", "code"), "adequacy": ("decisions", None), "laws": ("laws", "id"),
              "certification_schemes": ("schemes", "id")}


def _entry_key(name: str, entry: dict[str, Any]) -> str:
    _, key = _LIST_KEYS[name]
    if key:
        return str(entry[key])
    return str(entry.get("country") or entry.get("organisation"))


def _merge(name: str, base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    list_key, _ = _LIST_KEYS[name]
    merged = {e_key: entry for entry in base.get(list_key, []) if (e_key := _entry_key(name, entry))}
    for entry in extra.get(list_key, []):
        merged[_entry_key(name, entry)] = entry
    result = dict(base)
    result[list_key] = list(merged.values())
    result["version"] = f"{base.get('version')}+{extra.get('version', 'extra')}"
    return result


def _source_of(doc: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    source = entry.get("source")
    sources = doc.get("sources") or {}
    if isinstance(source, str):
        resolved = dict(sources.get(source, {"id": source}))
        resolved.setdefault("id", source)
        resolved.setdefault("checked", doc.get("checked"))
        return resolved
    if isinstance(source, dict) and isinstance(source.get("ref"), str):
        resolved = {"id": source["ref"], **sources.get(source["ref"], {}),
                    **{k: v for k, v in source.items() if k != "ref"}}
        resolved.setdefault("checked", entry.get("checked") or doc.get("checked"))
        return resolved
    if isinstance(source, dict):
        return {"checked": doc.get("checked"), **source}
    return {"checked": doc.get("checked"), "file": doc.get("version")}


def from_documents(documents: dict[str, dict[str, Any]]) -> KnowledgeBase:
    countries = documents["countries"].get("countries", [])
    laws = []
    for entry in documents["laws"].get("laws", []):
        laws.append(LawInfo(
            slug=entry["id"], name=entry["name"], country=entry["country"], citation=entry.get("citation", ""),
            channels={k: v for k, v in (entry.get("channels") or {}).items() if k in CHANNELS},
            source=_source_of(documents["laws"], entry),
        ))
    adequacy = tuple(
        {**entry, "source": _source_of(documents["adequacy"], entry)}
        for entry in documents["adequacy"].get("decisions", [])
    )
    schemes = {s["id"]: s for s in documents["certification_schemes"].get("schemes", [])}
    return KnowledgeBase(
        eu_countries=frozenset(c["code"] for c in countries if c.get("eu_member")),
        eea_countries=frozenset(c["code"] for c in countries if c.get("eea") or c.get("eu_member")),
        country_names={c["code"]: country_name(c["code"]) for c in countries},
        adequacy=adequacy,
        laws=tuple(laws),
        schemes=schemes,
        versions={name: str(doc.get("version", "")) for name, doc in documents.items()},
    )


def packaged(extra_dir: str | Path | None = None) -> KnowledgeBase:
    return from_documents(read_files(extra_dir))
