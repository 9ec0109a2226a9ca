"""Workload descriptors: what a workload carries into a policy decision, and how it is derived.

A workload = its tenant + data classes + requirements + declared safeguards (+ placement preferences).
Derivation (documented in docs/policies.md): the tenant's defaults, then the cloud project's, then the
resource's own tags/metadata (``souverain:classes=health,personal``, ``souverain:eu_only=true``) are merged:
classes are united, booleans are OR-ed (a stricter requirement always wins), lists are united,
``allowed_countries`` is intersected (each level can only narrow it), ``eucs_level`` takes the highest.

The tenant's legal category (``tenant_category``, tenancy/categories.py) comes from the tenant layer: it says
which texts bind the tenant, so whether a rule denies or warns. A workload that names no tenant (what-if
placement against an estate file) may state it; one that names a tenant may not contradict it. Unset, it is
``private``, the least-bound category.

Unknown names are errors, never silently ignored: ``validate`` refuses an unknown data class, requirement,
tenant category, pack or law id (law ids are checked against the knowledge base's, which the caller passes,
so this module stays free of the ORM). Labels that do not come through ``validate`` — resource tags and
metadata, a tenant's stored defaults — must not crash a compliance pass either: ``merge`` keeps a class (or a
requirement name) it does not know as an ``unknown_labels`` entry of the workload, and the ``requirements``
pack turns each into a violation of its own (an unreadable label may hide sensitive data: fail closed,
visibly). Human spellings of a class (``Diffusion Restreinte``, ``diffusion-restreinte``) are read as the class.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import jsonschema

from souverain.tenancy.categories import DEFAULT_TENANT_CATEGORY, TENANT_CATEGORIES

DATA_CLASSES = ("public", "internal", "personal", "special_category", "health", "diffusion_restreinte",
                "critical_operator")
EUCS_LEVELS = ("basic", "substantial", "high", "high_plus")
# no_foreign_law: no law of a non-EU country in the knowledge base may reach the data, through any channel
# the extraterritorial pack judges — including laws the knowledge base gains later (read from input.kb.laws).
BOOLEAN_REQUIREMENTS = ("secnumcloud", "eu_only", "customer_held_keys", "no_foreign_law")
LIST_REQUIREMENTS = ("no_exposure_to", "packs")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "tenant": {"type": ["string", "null"]},
        "tenant_category": {"enum": [None, *TENANT_CATEGORIES]},
        "data_classes": {"type": "array", "items": {"enum": list(DATA_CLASSES)}, "uniqueItems": True},
        "requirements": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **{flag: {"type": "boolean"} for flag in BOOLEAN_REQUIREMENTS},
                "no_exposure_to": {"type": "array", "items": {"type": "string"}},
                "packs": {"type": "array", "items": {"type": "string"}},
                "allowed_countries": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
                "eucs_level": {"enum": [None, *EUCS_LEVELS]},
            },
        },
        "safeguards": {
            "type": "array",
            "items": {
                "type": "object", "additionalProperties": False, "required": ["country", "mechanism"],
                "properties": {"country": {"type": "string", "pattern": "^([A-Z]{2}|\\*)$"},
                               "mechanism": {"enum": ["scc", "bcr", "derogation"]}},
            },
        },
        "preferences": {
            "type": "object", "additionalProperties": False,
            "properties": {"regions": {"type": "array", "items": {"type": "string"}}},
        },
        # The size of what will run (count servers of that shape): placement says "allowed but full" where it
        # cannot fit in the region's free capacity (souverain/capacity). Not a policy input.
        "size": {
            "type": "object", "additionalProperties": False,
            "properties": {"vcpu": {"type": "integer", "minimum": 0}, "ram_mb": {"type": "integer", "minimum": 0},
                           "disk_gb": {"type": "integer", "minimum": 0}, "count": {"type": "integer", "minimum": 1}},
        },
    },
}


class WorkloadError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid workload: " + "; ".join(problems))


# What an unknown value is called in an error, by the field holding it (its path without list indexes).
_ENUM_NAMES = {"data_classes": "data class", "tenant_category": "tenant category",
               "requirements.eucs_level": "EUCS level", "safeguards.mechanism": "safeguard mechanism"}
_FIELD_NAMES = {"": "workload field", "requirements": "requirement", "preferences": "preference",
                "safeguards": "safeguard field", "size": "size field"}


def _known(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values if v is not None)


def _problems(error: jsonschema.ValidationError) -> list[str]:
    """Each schema error as 'field: problem', the unknown names said plainly with the names that are known."""
    where = ".".join(map(str, error.absolute_path))
    field_path = ".".join(str(p) for p in error.absolute_path if not isinstance(p, int))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        noun = _FIELD_NAMES.get(field_path, "field")
        return [f"{where + '.' if where else ''}{extra}: unknown {noun} (known: {_known(known)})"
                for extra in sorted(set(error.instance) - set(known))]
    if error.validator == "enum" and field_path in _ENUM_NAMES:
        noun, known = _ENUM_NAMES[field_path], _known(error.validator_value)
        return [f"{where}: unknown {noun} {error.instance!r} (known: {known})"]
    return [f"{where or '(workload)'}: {error.message}"]


def validate(raw: Mapping[str, Any], *, known_laws: Collection[str] | None = None,
             known_packs: Collection[str] | None = None) -> None:
    """Refuse a workload descriptor with every problem at once, each naming its field.

    ``known_laws`` are the law ids of the knowledge base (an unknown id would otherwise match no exposure and
    silently weaken the decision); ``known_packs`` the built-in packs one may opt into. Callers pass both
    (policy.services.place does); without them the ids are not checked here, and the ``requirements`` pack
    still denies an excluded law the knowledge base does not know, at decision time.
    """
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(dict(raw)), key=lambda e: list(e.path))
    problems = [problem for error in errors for problem in _problems(error)]
    requirements = raw.get("requirements") if isinstance(raw.get("requirements"), Mapping) else {}
    checks = [(key, noun, sorted(known)) for key, noun, known in
              (("no_exposure_to", "law", known_laws), ("packs", "pack", known_packs)) if known is not None]
    for key, noun, known in checks:
        values = requirements.get(key)
        for index, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str) and value not in known:
                problems.append(f"requirements.{key}.{index}: unknown {noun} {value!r} (known: {_known(known)})")
    if problems:
        raise WorkloadError(problems)


def empty_requirements() -> dict[str, Any]:
    return {"secnumcloud": False, "eu_only": False, "customer_held_keys": False, "no_foreign_law": False,
            "no_exposure_to": [], "packs": [], "allowed_countries": [], "eucs_level": None}


REQUIREMENTS = frozenset(empty_requirements())


def data_class(label: str) -> str:
    """The data class a label names, spelt as people write it: 'Diffusion Restreinte' -> diffusion_restreinte."""
    return "_".join(label.strip().lower().replace("-", " ").split())


def merge(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge descriptor layers (tenant defaults first); every layer can only make the workload stricter."""
    classes: set[str] = set()
    unknown: set[tuple[str, str]] = set()
    requirements = empty_requirements()
    allowed: set[str] | None = None
    safeguards: dict[tuple[str, str], dict[str, str]] = {}
    preferences: list[str] = []
    name, tenant, category = "", None, None
    size: dict[str, int] | None = None
    for layer in layers:
        name = layer.get("name") or name
        size = dict(layer["size"]) if layer.get("size") else size  # the request's own, not a default to merge
        tenant = layer.get("tenant") or tenant
        if layer.get("tenant_category"):
            if category is not None and layer["tenant_category"] != category:
                raise WorkloadError([f"tenant_category: {layer['tenant_category']!r} differs from the category of "
                                     f"tenant {tenant!r} ({category})"])
            category = layer["tenant_category"]
        for label in layer.get("data_classes") or []:
            if data_class(str(label)) in DATA_CLASSES:
                classes.add(data_class(str(label)))
            else:
                unknown.add(("data_classes", str(label)))
        req = layer.get("requirements") or {}
        unknown.update(("requirements", str(key)) for key in req if key not in REQUIREMENTS)
        for flag in BOOLEAN_REQUIREMENTS:
            requirements[flag] = requirements[flag] or bool(req.get(flag))
        for key in LIST_REQUIREMENTS:
            requirements[key] = sorted(set(requirements[key]) | set(req.get(key) or []))
        if req.get("allowed_countries"):
            narrowed = set(req["allowed_countries"])
            allowed = narrowed if allowed is None else allowed & narrowed
        level = req.get("eucs_level")
        if level and (requirements["eucs_level"] is None
                      or EUCS_LEVELS.index(level) > EUCS_LEVELS.index(requirements["eucs_level"])):
            requirements["eucs_level"] = level
        for guard in layer.get("safeguards") or []:
            safeguards[(guard["country"], guard["mechanism"])] = dict(guard)
        preferences.extend(r for r in (layer.get("preferences") or {}).get("regions") or [] if r not in preferences)
    requirements["allowed_countries"] = sorted(allowed) if allowed is not None else []
    return {
        "name": name,
        "tenant": tenant,
        "tenant_category": category or DEFAULT_TENANT_CATEGORY,
        "data_classes": sorted(classes),
        "unknown_labels": [{"field": field, "value": label} for field, label in sorted(unknown)],
        "requirements": requirements,
        "safeguards": [safeguards[k] for k in sorted(safeguards)],
        "preferences": {"regions": preferences},
        **({"size": size} if size else {}),
    }


def from_tags(tags: Mapping[str, str]) -> dict[str, Any]:
    """A descriptor layer from resource tags/metadata (``souverain:classes``, ``souverain:<requirement>``).

    Every class label is kept, known or not: ``merge`` files the unknown ones under ``unknown_labels``, which
    the ``requirements`` pack reports, rather than letting a mistyped label hide a resource's data class."""
    layer: dict[str, Any] = {"requirements": {}}
    classes = tags.get("souverain:classes", "")
    labels = [c.strip() for c in classes.split(",") if c.strip()]
    layer["data_classes"] = [data_class(c) if data_class(c) in DATA_CLASSES else c for c in labels]
    for flag in BOOLEAN_REQUIREMENTS:
        if str(tags.get(f"souverain:{flag}", "")).lower() in {"1", "true", "yes"}:
            layer["requirements"][flag] = True
    laws = tags.get("souverain:no_exposure_to", "")
    if laws:
        layer["requirements"]["no_exposure_to"] = [law.strip() for law in laws.split(",") if law.strip()]
    return layer


def decision_attributes(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a workload a decision depends on (its equivalence class): not its name, tenant or preferences."""
    return {"tenant_category": workload.get("tenant_category", DEFAULT_TENANT_CATEGORY),
            "data_classes": workload["data_classes"], "unknown_labels": workload.get("unknown_labels", []),
            "requirements": workload["requirements"], "safeguards": workload["safeguards"]}
