"""One decision cache (issue 10, item 4): its key covers every input a rule can read.

Placement and compliance decide through the engine's cache; these tests change one input a rule reads — the
knowledge base, a workload attribute, the tenant when a module reads it — and check that the same process
then decides again instead of answering from a decision made without that input.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from souverain.estate import estatefile, snapshot
from souverain.policy import placement, services
from souverain.policy.engine import Engine, PolicyModule, builtin_policy_set, decision_key
from souverain.policy.engine.cache import canonical_hash, key_of, workload_profile
from souverain.sovereignty.kb import packaged

ROOT = Path(__file__).resolve().parents[3]
ON = dt.date(2026, 11, 25)
REGION = "international/eu-west-1"  # support staff in Morocco and India: personal data goes there


def unlawful_transfer_countries(result: dict, region: str = REGION) -> set[str]:
    denied = next((d for d in result["denied"] if d["region"] == region), {"reasons": []})
    return {r["facts"]["country"] for r in denied["reasons"] if r["rule"] == "gdpr_transfers.unlawful_transfer"}


def adequacy_release(directory: Path, country: str) -> Path:
    """An operator's knowledge-base addition: an adequacy decision for ``country`` (same schema and file name
    as the packaged file, merged by country)."""
    packaged_file = ROOT / "souverain" / "kb" / "adequacy.yaml"
    doc = yaml.safe_load(packaged_file.read_text(encoding="utf-8"))
    template = next(d for d in doc["decisions"] if d["country"] == "CH")
    decision = {**template, "id": country.lower(), "country": country}
    extra = {"version": "2026.11.26-1", "checked": doc["checked"], "sources": doc["sources"], "decisions": [decision]}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "adequacy.yaml").write_text(yaml.safe_dump(extra, sort_keys=False), encoding="utf-8")
    return directory


@pytest.mark.django_db
def test_a_knowledge_base_release_changes_the_next_placement_in_the_same_process(example_estate, tmp_path):
    from souverain.sovereignty.services import load_knowledge_base

    workload = {"name": "payroll", "data_classes": ["personal"]}
    before = services.place(workload, ON)
    assert "IN" in unlawful_transfer_countries(before)
    again = services.place({**workload, "name": "payroll-2"}, ON)  # answered from the cache: the same
    assert unlawful_transfer_countries(again) == unlawful_transfer_countries(before)

    load_knowledge_base(str(adequacy_release(tmp_path / "kb", "IN")))  # India now has an adequacy decision
    after = services.place(workload, ON)
    assert "IN" not in unlawful_transfer_countries(after)
    assert "MA" in unlawful_transfer_countries(after)  # the other destinations are still unlawful


def test_the_key_derives_from_the_whole_workload_but_its_name_and_preferences():
    base = {"name": "a", "tenant": "t", "data_classes": ["health", "personal"], "requirements": {"eu_only": True},
            "safeguards": [], "preferences": {"regions": ["x/y"]}}
    reordered = {**base, "name": "b", "data_classes": ["personal", "health"], "preferences": {"regions": []}}
    assert workload_profile(base) == workload_profile(reordered)
    # An attribute that no hand-kept list knows of (the tenant's legal category, say) is in the key.
    categorised = {**base, "tenant_category": "state_administration"}
    assert workload_profile(categorised) != workload_profile(base)
    assert workload_profile({**base, "tenant_category": "private"}) != workload_profile(categorised)


def estate_and_kb():
    return snapshot.from_document(estatefile.load(ROOT / "examples" / "estate" / "souverain.yaml")), packaged()


def test_placement_builds_the_engines_own_key():
    estate, kb = estate_and_kb()
    engine = Engine()
    context = placement.build_context(estate, kb, ON)
    workload = {**services.merge([{"tenant": "t", "data_classes": ["health"]}]), "tenant_category": "public_body"}
    case = context.cases[0]
    document = placement.policy_input(workload, case.profile, context.kb_input, ON)
    built = key_of(engine.policy_set.version, ON.isoformat(),
                   canonical_hash(workload_profile(workload, include_tenant=engine.reads_tenant)),
                   case.profile_hash, context.kb_hash)
    assert built == decision_key(engine.policy_set.version, document, include_tenant=engine.reads_tenant)
    assert document["workload"]["tenant_category"] == "public_body"  # rules read what the key covers

    placement.decide_all(workload, [case], context, ON, engine)
    assert (engine.cache.hits, engine.cache.misses) == (0, 1)
    assert engine.decide_cached(document) == engine.cache.get(built)  # one cache, one key


def test_the_tenant_enters_the_key_when_a_module_reads_it():
    estate, kb = estate_and_kb()
    blocked = PolicyModule(
        "custom/blocked.rego",
        'package souverain.custom.blocked\n\nimport rego.v1\n\n'
        'deny contains "this tenant is suspended" if input.workload.tenant == "suspended"\n',
    )
    engine = Engine(builtin_policy_set([blocked]))
    workload = {"data_classes": ["public"]}
    common = {"estate": estate, "kb": kb, "engine": engine, "use_tenant_defaults": False}
    first = services.place({**workload, "tenant": "active"}, ON, **common)
    suspended = services.place({**workload, "tenant": "suspended"}, ON, **common)
    assert first["allowed"]
    assert not suspended["allowed"]
    assert all("this tenant is suspended" in {r["message"] for r in d["reasons"]} for d in suspended["denied"])
