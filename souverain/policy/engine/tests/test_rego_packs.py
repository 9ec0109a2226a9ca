"""The built-in packs' own Rego tests, run through the engine's test runner."""

from souverain.policy.engine import builtin_modules, load_packs_config, pack_settings, run_tests

PACKS = ["secnumcloud", "hds", "gdpr_transfers", "extraterritorial", "eucs", "requirements"]


def test_every_pack_has_passing_rego_tests():
    report = run_tests(builtin_modules(tests=True), pack_settings(load_packs_config()))
    assert report.ok, str(report)
    for pack in PACKS:
        assert any(name.startswith(f"souverain.{pack}_test.") for name in report.passed), pack
    assert len(report.passed) >= 50


def test_every_pack_is_configured():
    assert list(load_packs_config()["packs"]) == PACKS
    for pack in load_packs_config()["packs"].values():
        assert pack["source"] and pack["applies_when"]
