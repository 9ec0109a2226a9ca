"""The knowledge-base data files and the example estate against their JSON Schemas.

Runs without Django: ``pytest -p no:django souverain/kb``.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pycountry
import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

KB = resources.files("souverain.kb")
REPO = Path(__file__).resolve().parents[3]
ESTATE_SCHEMA = REPO / "souverain" / "estate" / "schema" / "estate.schema.json"
EXAMPLES = REPO / "examples" / "estate"
KB_FILES = ["countries", "adequacy", "laws", "certification_schemes"]


def _plain(node: Any) -> Any:
    """YAML dates become ISO strings, as the loader does before validating."""
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    if isinstance(node, dt.date):
        return node.isoformat()
    return node


def _yaml(text: str) -> Any:
    return _plain(YAML(typ="safe", pure=True).load(text))


def _kb(name: str) -> dict[str, Any]:
    return _yaml(KB.joinpath(f"{name}.yaml").read_text(encoding="utf-8"))


def _validator(schema_text: str) -> Draft202012Validator:
    schema = json.loads(schema_text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _citations(node: Any):
    """Every {ref: ...} citation anywhere in a document."""
    if isinstance(node, dict):
        if set(node) >= {"ref"} and set(node) <= {"ref", "section", "notes"}:
            yield node["ref"]
        for value in node.values():
            yield from _citations(value)
    elif isinstance(node, list):
        for value in node:
            yield from _citations(value)


@pytest.mark.parametrize("name", KB_FILES)
def test_kb_file_matches_its_schema(name: str) -> None:
    validator = _validator(KB.joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(_kb(name))]
    assert errors == []


@pytest.mark.parametrize("name", KB_FILES)
def test_kb_file_cites_only_declared_sources(name: str) -> None:
    data = _kb(name)
    cited = set(_citations({k: v for k, v in data.items() if k != "sources"}))
    assert cited - set(data["sources"]) == set()
    assert set(data["sources"]) - cited == set(), "declared but never cited"


@pytest.mark.parametrize(("name", "key"), [("countries", "countries"), ("adequacy", "decisions"),
                                           ("laws", "laws"), ("certification_schemes", "schemes")])
def test_kb_ids_are_unique(name: str, key: str) -> None:
    field = "code" if key == "countries" else "id"
    ids = [entry[field] for entry in _kb(name)[key]]
    assert len(ids) == len(set(ids))


def test_country_codes_exist_and_eu_has_27_members() -> None:
    countries = _kb("countries")["countries"]
    assert [c["code"] for c in countries if pycountry.countries.get(alpha_2=c["code"]) is None] == []
    assert len([c for c in countries if c["eu_member"]]) == 27
    assert {c["code"] for c in countries if c["eea"] and not c["eu_member"]} == {"IS", "LI", "NO"}


def test_every_country_the_kb_names_is_in_countries_yaml() -> None:
    known = {c["code"] for c in _kb("countries")["countries"]}
    named = {d["country"] for d in _kb("adequacy")["decisions"] if d["country"]}
    named |= {law["country"] for law in _kb("laws")["laws"]}
    named |= {s["country"] for s in _kb("certification_schemes")["schemes"] if s["country"]}
    assert named - known == set()


def test_adequacy_list_is_the_one_in_force() -> None:
    decisions = _kb("adequacy")["decisions"]
    assert {d["country"] for d in decisions if d["country"]} == {
        "AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB", "US", "UY"}
    assert [d["organisation"] for d in decisions if d["country"] is None] == ["EPO"]
    assert next(d for d in decisions if d["country"] == "US")["scope"] == "dpf_certified_only"
    assert next(d for d in decisions if d["country"] == "CA")["scope"] == "commercial"


def test_scheme_criteria_name_existing_versions_and_levels() -> None:
    for scheme in _kb("certification_schemes")["schemes"]:
        versions = {v["version"] for v in scheme["versions"]}
        assert [v for v in scheme["versions"] if v["current"]], scheme["id"]
        for criterion in scheme["criteria"]:
            assert set(criterion.get("versions", [])) <= versions, (scheme["id"], criterion["id"])
            assert set(criterion.get("levels", [])) <= set(scheme["levels"]), (scheme["id"], criterion["id"])


def test_estate_schema_is_valid_draft_2020_12() -> None:
    _validator(ESTATE_SCHEMA.read_text(encoding="utf-8"))


def test_example_estate_matches_the_schema() -> None:
    validator = _validator(ESTATE_SCHEMA.read_text(encoding="utf-8"))
    estate = _yaml((EXAMPLES / "souverain.yaml").read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(estate)]
    assert errors == []
    assert estate["meta"]["example"] is True


def test_example_estate_certifications_name_kb_schemes_versions_and_levels() -> None:
    schemes = {s["id"]: s for s in _kb("certification_schemes")["schemes"]}
    estate = _yaml((EXAMPLES / "souverain.yaml").read_text(encoding="utf-8"))
    certs = [c for cloud in estate["clouds"] for c in cloud.get("certifications", [])]
    certs += [c for cloud in estate["clouds"] for r in cloud["regions"] for c in r.get("certifications", [])]
    for cert in certs:
        scheme = schemes[cert["scheme"]]
        assert cert["version"] in {v["version"] for v in scheme["versions"]}, cert
        assert cert.get("level") is None or cert["level"] in scheme["levels"], cert


def test_broken_estate_has_exactly_the_one_schema_error_it_announces() -> None:
    """The other errors in broken.yaml are semantic: the estate loader must report them (docs/estate-file.md)."""
    validator = _validator(ESTATE_SCHEMA.read_text(encoding="utf-8"))
    estate = _yaml((EXAMPLES / "broken.yaml").read_text(encoding="utf-8"))
    errors = list(validator.iter_errors(estate))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [("required", ["clouds", 0])]
    assert "'operator' is a required property" in errors[0].message
