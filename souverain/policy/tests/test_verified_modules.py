"""The engine remembers which sets of trusted modules load (engine/verified.py), never which fail."""

from __future__ import annotations

import pytest

from souverain.policy.engine import Engine, PolicyCompileError, builtin_policy_set, verified
from souverain.policy.engine.modules import PolicyModule, PolicySet


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SOUVERAIN_CACHE_DIR", str(tmp_path))
    verified.forget_all()
    yield tmp_path
    verified.forget_all()


def test_a_good_set_is_checked_once_then_remembered_on_disk(cache, monkeypatch):
    builtin = builtin_policy_set()
    print_ = verified.fingerprint(builtin.policy_modules)
    assert not verified.known_good(print_)
    Engine(builtin).close()
    assert (cache / "verified-modules" / print_).is_file()

    # Another process (memory forgotten) finds the marker and skips the compilation check.
    verified.forget_all()
    calls = []
    from souverain.policy.engine import engine as engine_module

    monkeypatch.setattr(engine_module, "compile_modules", lambda modules: calls.append(1) or [])
    Engine(builtin).close()
    assert calls == []


def test_a_changed_module_is_checked_again_and_its_error_is_not_remembered(cache):
    builtin = builtin_policy_set()
    Engine(builtin).close()
    broken = [m if not m.name.endswith("gdpr_transfers.rego") else
              PolicyModule(m.name, m.source + "\ndeny contains x if { x := count(1, 2) }\n")
              for m in builtin.policy_modules]
    assert broken != list(builtin.policy_modules)
    changed = PolicySet(broken + [m for m in builtin.modules if m.is_test], builtin.settings)
    for _ in range(2):
        with pytest.raises(PolicyCompileError):
            Engine(changed)
    assert not verified.known_good(verified.fingerprint(broken))
