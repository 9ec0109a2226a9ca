"""The estate file: every problem located (file, line, column, field), atomic and idempotent apply."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from souverain.estate import estatefile
from souverain.estate.models import Cloud, LegalEntity, Region
from souverain.estate.services import apply_file
from souverain.sovereignty.kb import packaged

GOOD = textwrap.dedent("""\
    version: 1
    entities:
      - id: group
        name: Group SA
        country: FR
        kind: company
        shareholders:
          - {holder: state, capital: 23, voting: 29}
      - id: state
        name: French State
        country: FR
        kind: state
      - id: op
        name: Cloud SAS
        country: FR
        kind: company
        shareholders:
          - {holder: group, capital: 100, voting: 100}
    datacenters:
      - {id: dc1, name: DC One, operator: op, country: FR, city: Paris, tier: 3}
    clouds:
      - id: c1
        name: Cloud One
        kind: openstack
        clouds_yaml: sovereign
        operator: op
        stack: {distribution: OpenStack, vendor: null, vendor_access: none}
        admin_staff_countries: [FR]
        support_staff_countries: [FR]
        key_custody: {holder: provider, country: FR}
        certifications:
          - {scheme: secnumcloud, version: "3.2", scope: IaaS, valid_from: 2024-01-01, valid_until: 2027-01-01}
        regions:
          - id: r1
            name: Region One
            datacenters: [dc1]
            availability_zones: [nova]
    """)


def write(tmp_path: Path, text: str, name: str = "souverain.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file_validates(tmp_path):
    doc = estatefile.load(write(tmp_path, GOOD), packaged())
    assert doc["clouds"][0]["regions"][0]["id"] == "r1"


def test_yaml_syntax_error_is_located(tmp_path):
    path = write(tmp_path, "version: 1\nentities:\n  - id: [unclosed\n")
    with pytest.raises(estatefile.EstateFileError) as info:
        estatefile.load(path, packaged())
    problem = info.value.problems[0]
    assert problem.file == str(path)
    assert problem.line >= 3
    assert "YAML syntax error" in problem.message


def test_every_problem_is_reported_at_once_with_line_and_column(tmp_path):
    broken = (GOOD
              .replace("- {holder: group, capital: 100, voting: 100}",
                       "- {holder: group, capital: 90, voting: 90}\n      - {holder: nobody, capital: 20, voting: 20}")
              .replace("valid_until: 2027-01-01", "valid_until: 2023-01-01")
              .replace("country: FR, city: Paris", "country: XX, city: Paris")
              .replace("name: Region One", "name: Region One\n        backup_datacenters: [dc-missing]"))
    path = write(tmp_path, broken)
    with pytest.raises(estatefile.EstateFileError) as info:
        estatefile.load(path, packaged())
    messages = {(p.field, p.message) for p in info.value.problems}
    text = "\n".join(map(str, info.value.problems))
    assert ("entities[2].shareholders[1].holder", "unknown entity 'nobody'") in messages, text
    assert any(f == "entities[2].shareholders" and "above 100 %" in m for f, m in messages), text
    assert any(f == "clouds[0].certifications[0].valid_until" and "precedes" in m for f, m in messages), text
    assert any(f == "datacenters[0].country" and "XX" in m for f, m in messages), text
    assert any("dc-missing" in m for _, m in messages), text
    for problem in info.value.problems:
        assert problem.line > 1 and problem.column >= 1
    unknown = next(p for p in info.value.problems if "nobody" in p.message)
    lines = broken.splitlines()
    assert "nobody" in lines[unknown.line - 1]


def test_ownership_cycle_is_refused(tmp_path):
    cyclic = GOOD.replace("kind: state", "kind: state\n    shareholders:\n      - {holder: op, capital: 5, voting: 5}")
    with pytest.raises(estatefile.EstateFileError) as info:
        estatefile.load(write(tmp_path, cyclic), packaged())
    assert any("ownership cycle" in p.message for p in info.value.problems)


def test_schema_errors_name_the_field(tmp_path):
    bad = GOOD.replace("kind: openstack", "kind: mainframe").replace("tier: 3", "tier: high")
    with pytest.raises(estatefile.EstateFileError) as info:
        estatefile.load(write(tmp_path, bad), packaged())
    fields = {p.field for p in info.value.problems}
    assert "clouds[0].kind" in fields
    assert "datacenters[0].tier" in fields


@pytest.mark.django_db
def test_apply_is_idempotent_and_records_changes(tmp_path, kb_loaded):
    from souverain.core.models import ObjectChange

    path = write(tmp_path, GOOD)
    first = apply_file(path)
    assert first.created["cloud"] == 1 and first.created["region"] == 1
    changes = ObjectChange.objects.count()
    second = apply_file(path)
    assert not second.created and not second.updated and not second.removed
    assert ObjectChange.objects.count() == changes
    renamed = write(tmp_path, GOOD.replace("name: Cloud One", "name: Cloud Uno"))
    third = apply_file(renamed)
    assert third.updated == {"cloud": 1}
    change = ObjectChange.objects.filter(action="update").first()
    assert change.before["name"] == "Cloud One" and change.after["name"] == "Cloud Uno"


@pytest.mark.django_db
def test_failed_apply_leaves_the_database_exactly_as_it_was(tmp_path, kb_loaded):
    apply_file(write(tmp_path, GOOD))
    before = (list(LegalEntity.objects.values()), list(Cloud.objects.values()), list(Region.objects.values()))
    broken = GOOD.replace("name: Cloud One", "name: Cloud Renamed").replace("operator: op\n", "operator: ghost\n")
    with pytest.raises(estatefile.EstateFileError):
        apply_file(write(tmp_path, broken))
    after = (list(LegalEntity.objects.values()), list(Cloud.objects.values()), list(Region.objects.values()))
    assert before == after


@pytest.mark.django_db
def test_error_inside_the_transaction_rolls_everything_back(tmp_path, kb_loaded, monkeypatch):
    from souverain.estate import services

    original = services._apply_cloud

    def explode(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_apply_cloud", explode)
    with pytest.raises(RuntimeError):
        apply_file(write(tmp_path, GOOD))
    assert not LegalEntity.objects.exists() and not Cloud.objects.exists()
