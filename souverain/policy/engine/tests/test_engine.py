import pytest

from souverain.policy.engine import (
    DecisionCache,
    Engine,
    PolicyCompileError,
    PolicyModule,
    applicable_packs,
    builtin_policy_set,
    decision_key,
    load_packs_config,
)

from .documents import certificate, document, huawei_region, sovereign_region, workload


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def test_diffusion_restreinte_on_sovereign_region_is_allowed(engine):
    decision = engine.decide(document(workload("diffusion_restreinte"), sovereign_region()))
    assert decision.allowed, decision.deny
    assert decision.packs == ["secnumcloud", "extraterritorial", "requirements"]


def test_huawei_stack_with_us_owned_backup_site_is_denied(engine):
    decision = engine.decide(document(workload("diffusion_restreinte"), huawei_region()))
    rules = {d["rule"] for d in decision.deny}
    assert {"secnumcloud.vendor_access", "secnumcloud.qualification", "extraterritorial.compelled_exposure"} <= rules
    messages = " ".join(d["message"] for d in decision.deny)
    assert "Huawei (CN) has remote support access" in messages
    assert "China National Intelligence Law through access by staff or a vendor" in messages
    assert "US CLOUD Act through legal control (the operator's ownership chain)" in messages
    assert all(d["source"] for d in decision.deny)


def test_health_data_with_hds_expired_the_day_before_is_denied(engine):
    region = sovereign_region()
    region["certifications"] = [certificate("hds", valid_until="2026-11-24", valid=False, days=None)]
    decision = engine.decide(document(workload("health"), region))
    assert [d["rule"] for d in decision.deny] == ["hds.certificate"]
    assert "ended on 2026-11-24" in decision.deny[0]["message"]


def test_applicability_follows_packs_yaml():
    config = load_packs_config()
    assert applicable_packs(workload("public"), config) == ["requirements"]
    assert applicable_packs(workload("health"), config) == ["hds", "gdpr_transfers", "extraterritorial", "requirements"]
    assert applicable_packs(workload("internal", eucs_level="high", packs=["hds"]), config) == [
        "hds",
        "eucs",
        "requirements",
    ]
    assert applicable_packs(workload("public", no_exposure_to=["us-cloud-act"]), config) == [
        "extraterritorial",
        "requirements",
    ]


def test_custom_pack_always_applies():
    custom = PolicyModule(
        "acme.rego",
        'package souverain.custom.acme\n\nimport rego.v1\n\ndeny contains "no Huawei" if {\n'
        '\tinput.region.vendor.name == "Huawei"\n}\n',
    )
    engine = Engine(builtin_policy_set([custom]))
    decision = engine.decide(document(workload("public"), huawei_region()))
    assert decision.packs == ["requirements", "custom.acme"]
    # A bare string gets the shape of every entry; its English stands in for the French it does not give.
    assert decision.deny == [{"rule": "custom.acme", "message": "no Huawei", "facts": {}, "source": "", "binds": "",
                              "message_fr": "no Huawei", "source_fr": "", "binds_fr": ""}]


def test_engine_refuses_builtin_modules_that_do_not_compile():
    with pytest.raises(PolicyCompileError) as raised:
        Engine(builtin_policy_set([PolicyModule("bad.rego", "package souverain.bad\nx := [\n")]))
    assert raised.value.errors[0].module == "bad.rego"


def test_an_operator_module_that_does_not_load_fails_alone_and_closed():
    engine = Engine(builtin_policy_set([PolicyModule("custom/bad.rego", "package souverain.custom.bad\nx := [\n")]))
    try:
        decision = engine.decide(document(workload("diffusion_restreinte"), huawei_region()))
    finally:
        engine.close()
    [error] = decision.errors
    assert error["pack"] == "custom.bad" and error["message"].startswith("the module does not load: custom/bad.rego@")
    assert {"custom.bad", "secnumcloud.vendor_access"} <= {d["rule"] for d in decision.deny}


def test_cache_hits_for_equivalent_documents():
    engine = Engine(cache=DecisionCache(maxsize=2))
    first = document(workload("health", "personal"), sovereign_region())
    same_class = document(workload("personal", "health"), sovereign_region())
    same_class["workload"]["tenant"] = "another-tenant"  # no rule reads the tenant: same decision
    first_decision = engine.decide_cached(first)
    assert (engine.cache.hits, engine.cache.misses) == (0, 1)
    assert engine.decide_cached(same_class) == first_decision
    assert (engine.cache.hits, engine.cache.misses) == (1, 1)

    other_date = document(workload("health"), sovereign_region(), date="2026-11-26")
    engine.decide_cached(other_date)
    assert engine.cache.misses == 2
    engine.decide_cached(document(workload("public"), sovereign_region()))
    assert len(engine.cache) == 2  # bounded: the least recently used entry went
    engine.cache.invalidate()
    assert len(engine.cache) == 0


def test_cached_decisions_are_copies():
    engine = Engine()
    doc = document(workload("health"), huawei_region())
    engine.decide_cached(doc).deny.clear()
    assert engine.decide_cached(doc).deny


def test_decision_key_is_stable_and_ignores_order_and_tenant():
    version = builtin_policy_set().version
    assert version == builtin_policy_set().version
    a = document(workload("health", "personal", allowed_countries=["FR", "DE"]), sovereign_region())
    b = document(workload("personal", "health", allowed_countries=["DE", "FR"]), sovereign_region())
    b["workload"]["tenant"] = "other"
    assert decision_key(version, a) == decision_key(version, b)
    assert decision_key(version, a, include_tenant=True) != decision_key(version, b, include_tenant=True)
    c = document(workload("health"), sovereign_region())
    c["kb"]["dpf_certified"] = ["certified-us-inc"]
    assert decision_key(version, a)[4] != decision_key(version, c)[4]
    assert decision_key(version, a)[0] == version


def test_tenant_enters_the_key_when_a_module_reads_it():
    custom = PolicyModule(
        "t.rego",
        'package souverain.custom.t\n\nimport rego.v1\n\ndeny contains "x" if input.workload.tenant == "x"\n',
    )
    assert Engine(builtin_policy_set([custom])).reads_tenant
    assert not Engine().reads_tenant
