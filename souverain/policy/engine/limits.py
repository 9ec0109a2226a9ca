"""Limits on operators' Rego modules, and the cheap checks made before the Rego engine sees a module's text.

rego-cpp (under regopy) recurses over the syntax tree: a module whose brackets nest a few thousand levels deep
overflows its stack and kills the whole process (SIGSEGV at ~5 000 nested arrays, ~10 KiB of text); long chains
of infix operators (`1 + 1 + ...`) make its rewriting passes quadratic (4 000 terms: 10 s to compile, 20 000:
over a minute). Neither is an error it reports. So an operator's module is first scanned here, in linear time and
without the engine: its size, its bracket depth and its longest operator chain are bounded, and a module over a
limit is refused with its position and the limit it crossed. What slips through (a rule that loops over a large
range at evaluation time, an engine bug) is caught by the child process that compiles, tests and evaluates
operators' modules (sandbox.py) with a time budget.

The defaults leave room: the built-in packs are at most ~6 KiB, nest at most 6 levels and chain at most 4
operators.
"""

from __future__ import annotations

from dataclasses import dataclass

from .compile import PolicyError, position
from .modules import PolicyModule

_OPEN = "([{"
_CLOSE = ")]}"
# Infix operators; two-character ones first so that `==` is one operator, not two.
_OPERATORS_2 = ("==", "!=", "<=", ">=")
_OPERATORS_1 = "+-*/%&|<>"


@dataclass(frozen=True)
class Limits:
    """Bounds on operators' modules (the settings SOUVERAIN_POLICY_* of docs/policies.md).

    max_bytes, max_depth and max_operators are checked on the text before the engine parses it;
    query_budget (seconds) bounds each evaluation of an operator's pack for one decision; check_timeout
    (seconds) bounds compiling and testing an uploaded module; memory_mb bounds the child process's writable
    memory; quarantine (seconds) is how long a pack that overran its budget or crashed the engine is not
    evaluated again (its decisions carry the error meanwhile).
    """

    max_bytes: int = 64 * 1024
    max_depth: int = 32
    max_operators: int = 256
    query_budget: float = 0.5
    check_timeout: float = 30.0
    memory_mb: int = 2048
    quarantine: float = 300.0


def source_problems(module: PolicyModule, limits: Limits) -> list[PolicyError]:
    """The limits this module's text crosses (at most one problem per limit), in linear time."""
    size = len(module.source.encode("utf-8"))
    if size > limits.max_bytes:
        return [PolicyError(module.name, None, None, f"the module is {size} bytes long; the limit is "
                                                     f"{limits.max_bytes} bytes (SOUVERAIN_POLICY_MAX_BYTES)")]
    problems: list[PolicyError] = []
    depth_at, chain_at = _scan(module.source, limits)
    if depth_at is not None:
        line, column = position(module.source, len(module.source[:depth_at].encode("utf-8")))
        problems.append(PolicyError(module.name, line, column, f"brackets nest more than {limits.max_depth} levels "
                                                                "deep (SOUVERAIN_POLICY_MAX_DEPTH)"))
    if chain_at is not None:
        line, column = position(module.source, len(module.source[:chain_at].encode("utf-8")))
        problems.append(PolicyError(module.name, line, column,
                                    f"an expression chains more than {limits.max_operators} operators "
                                    "(SOUVERAIN_POLICY_MAX_OPERATORS): split it into rules or use a comprehension"))
    return problems


def _scan(source: str, limits: Limits) -> tuple[int | None, int | None]:
    """Offsets (in characters) where the bracket depth, then the operator chain, first cross their limit.

    Strings, raw strings and comments are skipped. Operators are counted per bracket level and reset at `,`
    and `;`, and at the top level (outside any bracket) at a new line, where a rule ends — unless the line
    ends or the next one starts with an operator: rego-cpp continues an expression across such lines.
    """
    depth_at: int | None = None
    chain_at: int | None = None
    counts = [0]  # operators seen in the current expression of each open bracket level (0: top level)
    last = ""  # the last significant character, to tell whether a new line continues an expression
    new_line = False
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if char == "\n" and len(counts) == 1:
            new_line = new_line or last not in _OPERATORS_1 + "="
        if char.isspace():
            i += 1
            continue
        operator = 2 if source.startswith(_OPERATORS_2, i) else 1 if char in _OPERATORS_1 else 0
        if new_line and not operator:
            counts[0] = 0
        new_line = False
        last = char
        if char == '"':
            i += 1
            while i < n and source[i] not in '"\n':
                i += 2 if source[i] == "\\" else 1
        elif char == "`":
            end = source.find("`", i + 1)
            i = n - 1 if end < 0 else end
        elif char in _OPEN:
            counts.append(0)
            if depth_at is None and len(counts) - 1 > limits.max_depth:
                depth_at = i
        elif char in _CLOSE:
            if len(counts) > 1:
                counts.pop()
        elif char in ",;":
            counts[-1] = 0
        elif operator:
            i += operator - 1
            last = source[i]
            counts[-1] += 1
            if chain_at is None and counts[-1] > limits.max_operators:
                chain_at = i
        if depth_at is not None and chain_at is not None:
            break
        i += 1
    return depth_at, chain_at
