"""Untrusted Rego cannot crash, stall or exhaust the process: the failures first reproduced, then contained.

The modules are generated here: a deeply nested one (rego-cpp overflows its stack: SIGSEGV), a long operator
chain (quadratic compilation), a rule iterating over a large range (a minute per query), one building a huge
collection (gigabytes). The crashing case only ever runs in a child process, so that the test runner survives.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import time

from souverain.policy.engine import Engine, Limits, PolicyModule, builtin_modules, builtin_policy_set, sandbox
from souverain.policy.engine.limits import source_problems

from .documents import document, huawei_region, workload

HEADER = "package souverain.custom.{name}\n\nimport rego.v1\n\n"


def deep(levels: int, name: str = "deep") -> PolicyModule:
    body = "v := " + "[" * levels + "1" + "]" * levels + '\n\ndeny contains "deep" if v == 0\n'
    return PolicyModule(f"custom/{name}.rego", HEADER.format(name=name) + body)


def chain(terms: int, name: str = "chain") -> PolicyModule:
    # rego-cpp continues an expression across lines that start with an operator: the limit must see through it.
    body = "v := 1\n" + "+ 1\n" * (terms - 1) + '\ndeny contains "chain" if v == 0\n'
    return PolicyModule(f"custom/{name}.rego", HEADER.format(name=name) + body)


def looping(size: int = 3000, name: str = "loop") -> PolicyModule:
    """size² iterations in little memory: 1 000² takes ~10 s in rego-cpp, 3 000² minutes."""
    body = textwrap.dedent(f"""\
        deny contains "never" if {{
        \tsome i in numbers.range(1, {size})
        \tsome j in numbers.range(1, {size})
        \ti * j == -1
        }}
        """)
    return PolicyModule(f"custom/{name}.rego", HEADER.format(name=name) + body)


def hungry(name: str = "hungry") -> PolicyModule:
    body = f'deny contains "never" if count([x | some x in numbers.range(1, {10**9})]) == -1\n'
    return PolicyModule(f"custom/{name}.rego", HEADER.format(name=name) + body)


ACME = PolicyModule("custom/acme.rego", HEADER.format(name="acme")
                    + 'deny contains "no Huawei" if input.region.vendor.name == "Huawei"\n')
OFF = Limits(max_bytes=10**9, max_depth=10**9, max_operators=10**9)  # let everything reach the engine


def test_a_deeply_nested_module_segfaults_rego_cpp_in_process() -> None:
    """The failure itself: without the child process, this kills whatever process runs the engine."""
    script = textwrap.dedent(f"""
        from souverain.policy.engine import _rego
        source = {deep(20_000).source!r}
        interpreter = _rego.new_interpreter()
        _rego.add_module(interpreter, "custom/deep.rego", source)
        _rego.query(interpreter, "data.souverain.custom.deep.deny")
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert completed.returncode == -11  # SIGSEGV


def test_limits_refuse_deep_long_and_large_modules_with_their_place_before_the_engine() -> None:
    limits = Limits()
    [problem] = source_problems(deep(10_000), limits)
    assert (problem.module, problem.line, problem.column) == ("custom/deep.rego", 5, 38)
    assert "more than 32 levels" in problem.message and "SOUVERAIN_POLICY_MAX_DEPTH" in problem.message
    [problem] = source_problems(chain(2_000), limits)
    assert problem.line == 5 + 257 and "more than 256 operators" in problem.message
    big = PolicyModule("custom/big.rego", HEADER.format(name="big") + "# padding\n" * 10_000)
    [problem] = source_problems(big, limits)
    assert "bytes long; the limit is 65536 bytes (SOUVERAIN_POLICY_MAX_BYTES)" in problem.message
    started = time.perf_counter()
    source_problems(PolicyModule("x.rego", "[" * 60_000 + "1 +" * 20_000), limits)
    assert time.perf_counter() - started < 1


def test_limits_leave_the_builtin_packs_and_strings_alone() -> None:
    tight = Limits(max_depth=8, max_operators=8)
    assert [p for m in builtin_modules(tests=True) for p in source_problems(m, tight)] == []
    text = PolicyModule("s.rego", HEADER.format(name="s") + 'm := "[[[[[[[[[[ + + + + + + + + +"  # ((((((((((\n')
    assert source_problems(text, Limits(max_depth=2, max_operators=2)) == []


def test_a_crash_while_checking_an_upload_is_an_error_against_the_module() -> None:
    errors, tests = sandbox.check([*builtin_modules(), deep(20_000)], blamed="custom/deep.rego", limits=OFF)
    [error] = errors
    assert error.module == "custom/deep.rego"
    assert "the Rego engine crashed (SIGSEGV) while compiling and testing the module" in error.message
    assert tests == {}


def test_checking_an_upload_is_bounded_in_time() -> None:
    tests = PolicyModule("custom/loop_test.rego", "package souverain.custom.loop_test\n\nimport rego.v1\n\n"
                                                  "import data.souverain.custom.loop\n\n"
                                                  "test_never if count(loop.deny) == 0\n")
    started = time.perf_counter()
    errors, _ = sandbox.check([*builtin_modules(), looping(), tests], blamed="custom/loop.rego",
                              limits=Limits(check_timeout=3))
    assert time.perf_counter() - started < 10
    [error] = errors
    assert error.module == "custom/loop.rego"
    assert "took longer than 3 s (SOUVERAIN_POLICY_CHECK_TIMEOUT)" in error.message


def test_a_looping_active_module_fails_closed_within_its_budget_and_the_others_still_decide() -> None:
    engine = Engine(builtin_policy_set([looping(), ACME]), limits=Limits(query_budget=0.5))
    try:
        doc = document(workload("diffusion_restreinte"), huawei_region())
        started = time.perf_counter()
        decision = engine.decide(doc)
        first = time.perf_counter() - started
        # Budget, plus starting a new child for the packs after the killed one (seconds on a loaded machine).
        assert first < 10, first
        assert [e["pack"] for e in decision.errors] == ["custom.loop"]
        assert "the query took longer than 500 ms (SOUVERAIN_POLICY_QUERY_BUDGET_MS)" in decision.errors[0]["message"]
        rules = {d["rule"] for d in decision.deny}
        # The built-in packs and the other operator's pack decided as usual; the looping one denies (fail closed).
        assert {"secnumcloud.vendor_access", "custom.acme", "custom.loop"} <= rules
        failure = next(d for d in decision.deny if d["rule"] == "custom.loop")
        assert failure["message"].startswith("custom/loop.rego could not be evaluated: the query took longer")
        # Quarantined: the next decisions do not wait for it again.
        started = time.perf_counter()
        again = engine.decide(doc)
        assert time.perf_counter() - started < 0.5 + first / 2
        assert {d["rule"] for d in again.deny} == rules
        assert engine.decide_cached(doc).errors and len(engine.cache) == 0  # an error is not a decision to keep
    finally:
        engine.close()


def test_a_module_crashing_the_engine_at_load_only_fails_itself() -> None:
    engine = Engine(builtin_policy_set([deep(20_000), ACME]), limits=OFF)
    try:
        decision = engine.decide(document(workload("public"), huawei_region()))
        [error] = decision.errors
        assert error["pack"] == "custom.deep" and error["module"] == "custom/deep.rego"
        assert "the Rego engine crashed (SIGSEGV)" in error["message"]
        assert "custom.acme" in {d["rule"] for d in decision.deny}
    finally:
        engine.close()


def test_an_active_module_over_a_limit_never_reaches_the_engine() -> None:
    engine = Engine(builtin_policy_set([deep(10_000)]))
    assert engine.sandbox is None  # nothing left to evaluate in a child
    decision = engine.decide(document(workload("public"), huawei_region()))
    [error] = decision.errors
    assert "custom/deep.rego:5:38: brackets nest more than 32 levels deep" in error["message"]


def test_a_module_eating_memory_is_stopped_at_the_limit() -> None:
    engine = Engine(builtin_policy_set([hungry()]), limits=Limits(memory_mb=300, query_budget=60))
    try:
        started = time.perf_counter()
        [error] = engine.decide(document(workload("public"), huawei_region())).errors
        assert time.perf_counter() - started < 60
        assert "more than 300 MB of memory (SOUVERAIN_POLICY_MEMORY_MB)" in error["message"]
    finally:
        engine.close()


def test_an_operator_pack_is_decided_well_within_its_budget() -> None:
    budget = 0.5
    engine = Engine(builtin_policy_set([ACME]), limits=Limits(query_budget=budget))
    try:
        doc = document(workload("public"), huawei_region())
        engine.decide(doc)  # starts and loads the child
        started = time.perf_counter()
        for _ in range(50):
            assert engine.decide(doc).deny[0]["rule"] == "custom.acme"
        assert (time.perf_counter() - started) / 50 < budget
    finally:
        engine.close()


def test_a_dropped_engine_takes_its_child_process_with_it() -> None:
    engine = Engine(builtin_policy_set([ACME]))
    engine.decide(document(workload("public"), huawei_region()))
    assert engine.sandbox is not None and engine.sandbox._child is not None
    process = engine.sandbox._child.process
    del engine
    gc.collect()
    assert process.wait(timeout=10) is not None
