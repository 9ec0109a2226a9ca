"""Workload descriptors: what a workload carries into a policy decision, and how it is derived.

A workload = its tenant + data classes + requirements + declared safeguards (+ placement preferences).
Derivation (documented in docs/policies.md): the tenant's defaults, then the cloud project's, then the
resource's own tags/metadata (``souverain:classes=health,personal``, ``souverain:eu_only=true``) are merged:
classes are united, booleans are OR-ed (a stricter requirement always wins), lists are united,
``allowed_countries`` is intersected (each level can only narrow it), ``eucs_level`` takes the highest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema

DATA_CLASSES = ("public", "internal", "personal", "special_category", "health", "diffusion_restreinte",
                "critical_operator")
EUCS_LEVELS = ("basic", "substantial", "high", "high_plus")
BOOLEAN_REQUIREMENTS = ("secnumcloud", "eu_only", "customer_held_keys")
LIST_REQUIREMENTS = ("no_exposure_to", "packs")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "tenant": {"type": ["string", "null"]},
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
    },
}


class WorkloadError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid workload: " + "; ".join(problems))


def validate(raw: Mapping[str, Any]) -> None:
    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(dict(raw)), key=lambda e: list(e.path))
    if errors:
        raise WorkloadError([f"{'.'.join(map(str, e.absolute_path)) or '(workload)'}: {e.message}" for e in errors])


def empty_requirements() -> dict[str, Any]:
    return {"secnumcloud": False, "eu_only": False, "customer_held_keys": False, "no_exposure_to": [],
            "packs": [], "allowed_countries": [], "eucs_level": None}


def merge(layers: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge descriptor layers (tenant defaults first); every layer can only make the workload stricter."""
    classes: set[str] = set()
    requirements = empty_requirements()
    allowed: set[str] | None = None
    safeguards: dict[tuple[str, str], dict[str, str]] = {}
    preferences: list[str] = []
    name, tenant = "", None
    for layer in layers:
        name = layer.get("name") or name
        tenant = layer.get("tenant") or tenant
        classes.update(layer.get("data_classes") or [])
        req = layer.get("requirements") or {}
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
        "data_classes": sorted(classes),
        "requirements": requirements,
        "safeguards": [safeguards[k] for k in sorted(safeguards)],
        "preferences": {"regions": preferences},
    }


def from_tags(tags: Mapping[str, str]) -> dict[str, Any]:
    """A descriptor layer from resource tags/metadata (``souverain:classes``, ``souverain:<requirement>``)."""
    layer: dict[str, Any] = {"requirements": {}}
    classes = tags.get("souverain:classes", "")
    layer["data_classes"] = [c.strip() for c in classes.split(",") if c.strip() in DATA_CLASSES]
    for flag in BOOLEAN_REQUIREMENTS:
        if str(tags.get(f"souverain:{flag}", "")).lower() in {"1", "true", "yes"}:
            layer["requirements"][flag] = True
    laws = tags.get("souverain:no_exposure_to", "")
    if laws:
        layer["requirements"]["no_exposure_to"] = [law.strip() for law in laws.split(",") if law.strip()]
    return layer


def decision_attributes(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a workload a decision depends on (its equivalence class): not its name, tenant or preferences."""
    return {"data_classes": workload["data_classes"], "requirements": workload["requirements"],
            "safeguards": workload["safeguards"]}
