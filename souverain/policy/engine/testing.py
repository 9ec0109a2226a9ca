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


def run_tests(modules: Iterable[PolicyModule], settings: Mapping[str, Any] | None = None) -> TestReport:
    """Evaluate every test_* rule of every *_test.rego module against all the modules.

    A test passes when its rule is true; it fails when it is undefined or false (a condition did not hold)
    or when evaluating it raised an error. Modules that do not compile fail the run as a whole: each
    error is reported as a failure named after its module.
    """
    modules = list(modules)
    report = TestReport()
    errors = compile_modules(modules)
    if errors:
        report.failed.extend((error.module, str(error)) for error in errors)
        return report
    interpreter = _rego.new_interpreter(dict(settings or {}))
    for module in modules:
        _rego.add_module(interpreter, module.name, module.source)
    _rego.set_input(interpreter, {})
    for module in modules:
        if not module.is_test:
            continue
        for rule in dict.fromkeys(_TEST_RULE.findall(module.source)):
            name = f"{module.package}.{rule}"
            try:
                value = _rego.query(interpreter, f"data.{module.package}.{rule}")
            except _rego.RegoEvalError as exc:
                message = str(exc)
                if "rego-localref" in message or "rego-with" in message:
                    message += _WITH_HINT
                report.failed.append((name, f"error: {message}"))
                continue
            if value is True:
                report.passed.append(name)
            elif value is _rego.UNDEFINED:
                report.failed.append((name, "undefined: a condition in the test did not hold"))
            else:
                report.failed.append((name, f"evaluated to {value!r}, expected true"))
    return report
