"""Checking modules before they are used: parse errors with their position, and what the engine refuses."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from . import _rego
from .modules import PolicyModule, pack_name


@dataclass(frozen=True)
class PolicyError:
    """A problem in one module. line and column are 1-based; None when rego-cpp gives no position."""

    module: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.module}:{self.line}:{self.column}" if self.line is not None else self.module
        return f"{where}: {self.message}"


class PolicyCompileError(Exception):
    def __init__(self, errors: Sequence[PolicyError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


def position(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a byte offset into the UTF-8 source (rego-cpp counts bytes)."""
    before = source.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _find(source: str, text: str) -> tuple[int | None, int | None]:
    """Position of text in source if it occurs exactly once: rego-cpp's evaluation errors carry no offset."""
    if len(text) < 2 or source.count(text) != 1:
        return None, None
    at = source.index(text)
    return position(source, len(source[:at].encode("utf-8")))


def _strip_comments(source: str) -> str:
    # Replace comments with spaces (keeping offsets) so that a word in a comment is not taken for code.
    return re.sub(r'("(?:[^"\\\n]|\\.)*"|`[^`]*`)|#[^\n]*', lambda m: m.group(1) or " " * len(m.group(0)), source)


_WITH = re.compile(r"\bwith\b\s+(input|data)\b")


def compile_modules(modules: Iterable[PolicyModule], *, reserved_packages: Iterable[str] = (),
                    evaluated: Iterable[str] | None = None) -> list[PolicyError]:
    """Errors that stop these modules from being loaded together; an empty list when they can be.

    Reported: parse errors (with line and column), a module without a package, a module taking a
    reserved package (pass the built-in packs' packages when checking operators' modules), `with` outside
    a test module, and errors rego-cpp raises when it compiles and evaluates each package's deny and warn
    on an empty input (unknown functions, wrong arity of builtins, conflicting values...). rego-cpp checks
    little statically: an unsafe variable, for one, makes its rule undefined instead of an error.

    evaluated: the names of the modules whose deny and warn are evaluated (default: all). rego-cpp compiles
    every loaded module for each query, so checking one new module beside known-good ones needs its own
    queries only — each costs a full compilation.
    """
    modules = list(modules)
    reserved = set(reserved_packages)
    errors: list[PolicyError] = []
    parsed: list[PolicyModule] = []
    for module in modules:
        try:
            _rego.add_module(_rego.new_interpreter(), module.name, module.source)
        except _rego.RegoParseError as exc:
            for problem in exc.problems:
                line, column = position(module.source, problem.offset)
                errors.append(PolicyError(module.name, line, column, problem.message))
            continue
        package = module.package
        if package is None:
            errors.append(PolicyError(module.name, 1, 1, "no package declaration"))
            continue
        if package in reserved:
            line, column = _find(module.source, f"package {package}")
            errors.append(PolicyError(module.name, line, column, f"package {package} belongs to a built-in pack"))
            continue
        if not module.is_test:
            code = _strip_comments(module.source)
            for match in _WITH.finditer(code):
                # regopy 1.5.2 aborts the whole process on some `with` in a compiled bundle: keep it in tests.
                line, column = position(code, len(code[: match.start()].encode("utf-8")))
                errors.append(PolicyError(module.name, line, column, "`with` is only allowed in *_test.rego modules"))
        parsed.append(module)
    if errors:
        return errors
    return _evaluation_errors(parsed, None if evaluated is None else set(evaluated))


def _evaluation_errors(modules: list[PolicyModule], evaluated: set[str] | None) -> list[PolicyError]:
    # Test modules stay out: rego-cpp compiles every loaded module for any query, so an error in a test
    # would be reported against each pack; run_tests reports it against the test instead.
    modules = [m for m in modules if not m.is_test]
    interpreter = _rego.new_interpreter()
    for module in modules:
        _rego.add_module(interpreter, module.name, module.source)
    _rego.set_input(interpreter, {})
    errors = []
    for module in modules:
        if not pack_name(module.package or "") or (evaluated is not None and module.name not in evaluated):
            continue
        for rule in ("deny", "warn"):
            try:
                _rego.query(interpreter, f"data.{module.package}.{rule}")
            except _rego.RegoEvalError as exc:
                for problem in exc.problems:
                    line, column = _find(module.source, problem.ast) if problem.ast else (None, None)
                    detail = f" (at `{problem.ast}`)" if problem.ast and line is None else ""
                    errors.append(PolicyError(module.name, line, column, f"{rule}: {problem.message}{detail}"))
    # The same error is found through deny and warn when they share a helper: report it once.
    return list(dict.fromkeys(errors))
