"""Running the test_* rules of Rego modules, as `opa test` would (regopy has no test runner)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _rego
from .compile import compile_modules
from .modules import PolicyModule

_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)

# Messages of regopy 1.5.2's `with` bugs, and what to write instead.
_WITH_HINT = (
    " — regopy 1.5.2 cannot compile `with input as <object>`: pass each input key from a local variable,"
    " e.g. `r := fixtures.region; deny with input.region as r`"
)


@dataclass
class TestReport:
    """Outcome of every test rule, named "<package>.<rule>"."""

    __test__ = False  # not a pytest test class

    passed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def __str__(self) -> str:
        lines = [f"FAIL {name}: {why}" for name, why in self.failed]
        lines.append(f"{len(self.passed)} passed, {len(self.failed)} failed")
        return "\n".join(lines)


def run_tests(modules: Iterable[PolicyModule], settings: Mapping[str, Any] | None = None, *,
              compiled: bool = False) -> TestReport:
    """Evaluate every test_* rule of every *_test.rego module against all the modules.

    A test passes when its rule is true; it fails when it is undefined or false (a condition did not hold)
    or when evaluating it raised an error. Modules that do not compile fail the run as a whole: each
    error is reported as a failure named after its module (compiled=True: the caller has just checked
    them with compile_modules, which costs as much as the tests).
    """
    modules = list(modules)
    report = TestReport()
    errors = [] if compiled else compile_modules(modules)
    if errors:
        report.failed.extend((error.module, str(error)) for error in errors)
        return report
    interpreter = _rego.new_interpreter(dict(settings or {}))
    for module in modules:
        _rego.add_module(interpreter, module.name, module.source)
    _rego.set_input(interpreter, {})
    tests = [
        f"{module.package}.{rule}"
        for module in modules
        if module.is_test
        for rule in dict.fromkeys(_TEST_RULE.findall(module.source))
    ]
    for name, outcome in zip(tests, _evaluate(interpreter, tests), strict=True):
        if outcome is True:
            report.passed.append(name)
        else:
            report.failed.append((name, outcome))
    return report


def _evaluate(interpreter: Any, tests: list[str]) -> list[bool | str]:
    """True for each passing test, else why it failed.

    rego-cpp compiles every module again for each query (tens of ms), so all the tests go in one query,
    each wrapped in a comprehension that is empty when the test is undefined. Only when that query fails
    are the tests run one by one, to tell which one raised the error.
    """
    batch = ", ".join(f"[v | v := data.{name}]" for name in tests)
    try:
        values = _rego.query(interpreter, f"x := [{batch}]", binding="x") if tests else []
    except _rego.RegoEvalError:
        return [_outcome(interpreter, name) for name in tests]
    return [_judge(value) for value in values]


def _outcome(interpreter: Any, name: str) -> bool | str:
    try:
        value = _rego.query(interpreter, f"x := [v | v := data.{name}]", binding="x")
    except _rego.RegoEvalError as exc:
        message = str(exc)
        if "rego-localref" in message or "rego-with" in message:
            message += _WITH_HINT
        return f"error: {message}"
    return _judge(value)


def _judge(values: Any) -> bool | str:
    if values == [True]:
        return True
    if values == [] or values is _rego.UNDEFINED:
        return "undefined: a condition in the test did not hold"
    return f"evaluated to {values[0]!r}, expected true"
