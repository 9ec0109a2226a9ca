"""A thin, crash-safe layer over regopy 1.5.2.

regopy's own Output class is not usable as is: str() of a failed output dereferences a null pointer
(segfault), a query error is a bare "<error>" string, and an input set from a Python dict comes back
with unescaped quotes. This module talks to regopy's C functions directly and turns every failure into
a Python exception carrying rego-cpp's messages.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from regopy import Interpreter, RegoError
from regopy import rego_shared as _c

# rego-cpp node kinds (regopy.rego_shared.NodeKind values), for reading results and errors.
_BINDING, _VAR, _TERM, _SCALAR, _ARRAY, _SET, _OBJECT, _OBJECT_ITEM = range(1000, 1008)
_INT, _FLOAT, _STRING, _TRUE, _FALSE, _NULL, _UNDEFINED, _TERMS = range(1008, 1016)
_ERROR, _ERROR_MSG, _ERROR_AST, _ERROR_CODE, _ERROR_SEQ = range(1800, 1805)

UNDEFINED: Any = object()
"""Returned by a query whose result is undefined (no rule body held)."""


@dataclass(frozen=True)
class ParseProblem:
    """One error rego-cpp reported while parsing a module, at a byte offset of its source."""

    module: str
    offset: int
    length: int
    message: str


class RegoParseError(Exception):
    def __init__(self, problems: list[ParseProblem]) -> None:
        super().__init__("; ".join(f"{p.module}@{p.offset}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class EvalProblem:
    """One error rego-cpp reported while compiling or evaluating a query."""

    message: str
    code: str = ""
    ast: str = ""  # source text of the offending term, when rego-cpp gives one


class RegoEvalError(Exception):
    def __init__(self, problems: list[EvalProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems) or "rego-cpp reported an error without a message")
        self.problems = problems


_stdout_lock = threading.Lock()


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence the report rego-cpp prints on file descriptor 1 when a module fails to parse.

    The same errors, with positions, are in the exception; a server's stdout is no place for them.
    """
    with _stdout_lock:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def new_interpreter(settings: dict[str, Any] | None = None) -> Interpreter:
    interpreter = Interpreter()
    # Rules read their pack's settings as data.settings.<pack>; always present, possibly empty.
    interpreter.add_data({"settings": settings or {}})
    return interpreter


def add_module(interpreter: Interpreter, name: str, source: str) -> None:
    try:
        with _quiet_stdout():
            interpreter.add_module(name, source)
    except RegoError as exc:
        raise RegoParseError(_parse_problems(str(exc)) or [ParseProblem(name, 0, 0, str(exc))]) from None


def set_input(interpreter: Interpreter, document: Any) -> None:
    # Through JSON text, not regopy.Input: strings set from Python objects are later printed unescaped.
    interpreter.set_input_term(json.dumps(document, ensure_ascii=False))


def query(interpreter: Interpreter, expression: str, binding: str | None = None) -> Any:
    """Value of the first expression of the query's first result (or of the variable `binding`), or UNDEFINED.

    Plain queries are compiled with every loaded module each time: use a bundle for repeated evaluation.
    """
    output = _c.rego.regoQuery(interpreter._impl, expression.encode("utf-8"))
    return _read_output(interpreter, output, binding)


def query_entrypoint(interpreter: Interpreter, bundle: Any, entrypoint: str) -> Any:
    output = _c.rego.regoBundleQueryEntrypoint(interpreter._impl, bundle._impl, entrypoint.encode("utf-8"))
    return _read_output(interpreter, output)


def build(interpreter: Interpreter, entrypoints: list[str]) -> Any:
    bundle = interpreter.build(None, entrypoints)
    if not bundle.ok():
        raise RegoEvalError([EvalProblem(_c.rego_get_error(interpreter._impl) or "bundle build failed")])
    return bundle


def _read_output(interpreter: Interpreter, output: int | None, binding: str | None = None) -> Any:
    if not output:  # the compiler threw: rego-cpp kept the message on the interpreter
        raise RegoEvalError([EvalProblem(_c.rego_get_error(interpreter._impl))])
    try:
        if not _c.rego_output_ok(output):
            raise RegoEvalError(_errors(_c.rego_output_node(output)))
        text = _c.rego_output_string(output)
        if text == "undefined":
            return UNDEFINED
        try:
            results = json.loads(text)
        except json.JSONDecodeError:
            # A string built by a builtin can reach the JSON printer unescaped; read the node tree instead.
            if text.lstrip().startswith("(error"):
                raise RegoEvalError([EvalProblem(m) for m in _sexpr_messages(text)]) from None
            if binding is not None:
                return _node_value(_c.rego_output_binding_at_index(output, 0, binding))
            return _node_value(_c.rego_output_expressions_at_index(output, 0), first=True)
        if isinstance(results, list):
            results = results[0] if results else {}
        values = results.get("bindings", {}) if binding is not None else dict(enumerate(results.get("expressions", [])))
        key = binding if binding is not None else 0
        if key not in values:
            return UNDEFINED
        value = values[key]
        # A failing builtin (unknown function...) yields an error node where a value should be.
        if isinstance(value, str) and value.startswith("(error"):
            raise RegoEvalError([EvalProblem(m) for m in _sexpr_messages(value)])
        return value
    finally:
        _c.rego_free_output(output)


def _errors(node: int) -> list[EvalProblem]:
    problems = []
    for i in range(_c.rego_node_size(node)):
        error = _c.rego_node_get(node, i)
        message = code = ast = ""
        for j in range(_c.rego_node_size(error)):
            part = _c.rego_node_get(error, j)
            kind = _c.rego.regoNodeType(part)
            if kind == _ERROR_MSG:
                message = _c.rego_node_value(part)
            elif kind == _ERROR_CODE:
                code = _c.rego_node_value(part)
            elif kind == _ERROR_AST and _c.rego_node_size(part):
                ast = _c.rego_node_value(_c.rego_node_get(part, 0))
        problems.append(EvalProblem(message or code or "error", code, ast))
    return problems


_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")


def _unescape(raw: str) -> str:
    # Node text keeps JSON escapes, and a string from concat() keeps its quotes: undo both.
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    return _ESCAPE.sub(lambda m: json.loads(f'"\\{m.group(1)}"'), raw)


def _node_value(node: int, first: bool = False) -> Any:
    kind = _c.rego.regoNodeType(node)
    size = _c.rego_node_size(node)
    if kind in (_TERMS, _TERM, _SCALAR) or first:
        return _node_value(_c.rego_node_get(node, 0)) if size else UNDEFINED
    if kind == _OBJECT:
        items = [_c.rego_node_get(node, i) for i in range(size)]
        return {_node_value(_c.rego_node_get(item, 0)): _node_value(_c.rego_node_get(item, 1)) for item in items}
    if kind in (_ARRAY, _SET):
        return [_node_value(_c.rego_node_get(node, i)) for i in range(size)]
    value = _c.rego_node_value(node)
    if kind == _STRING:
        return _unescape(value)
    if kind == _INT:
        return int(value)
    if kind == _FLOAT:
        return float(value)
    if kind in (_TRUE, _FALSE):
        return kind == _TRUE
    if kind == _NULL:
        return None
    return value


def _length_prefixed(text: str, at: int) -> tuple[str, int]:
    """Read rego-cpp's `N:chars` token at `at`; return the chars and the position after them."""
    colon = text.index(":", at)
    size = int(text[at:colon])
    return text[colon + 1 : colon + 1 + size], colon + 1 + size


_ERROR_HEAD = re.compile(r"\(error (\d+:)")


def _parse_problems(text: str) -> list[ParseProblem]:
    """Parse rego-cpp's error tree, e.g. `(error 7:m0.rego|48|2 (errormsg 16:this is unclosed) ...)`."""
    problems = []
    for match in _ERROR_HEAD.finditer(text):
        module, pos = _length_prefixed(text, match.start(1))
        location = re.match(r"\|(\d+)\|(\d+)", text[pos:])
        msg_at = text.find("(errormsg ", pos)
        if location is None or msg_at < 0:
            continue
        message, _ = _length_prefixed(text, msg_at + len("(errormsg "))
        problems.append(ParseProblem(module, int(location.group(1)), int(location.group(2)), message))
    return problems


def _sexpr_messages(text: str) -> list[str]:
    messages = []
    for match in re.finditer(r"\(errormsg (\d+:)", text):
        message, _ = _length_prefixed(text, match.start(1))
        messages.append(message)
    return messages or [text.strip()]
