"""Operators' Rego modules run in a child process: a crash or a loop of the engine cannot take the server down.

regopy runs rego-cpp inside the Python process, with no time limit and no protection against its own stack
overflows: one bad module (deeply nested, or a rule looping over a huge range) segfaults or stalls the server and
its worker. The built-in packs are ours, tested and fast (~1 ms a query): they stay in-process. Everything that
reads an operator's text goes through a child process (``python -m souverain.policy.engine.sandbox``) that the
parent can kill:

- ``check()`` compiles and tests an uploaded module in a fresh child, bounded by ``Limits.check_timeout``; the
  child's exit is checked, so a crash is reported as "the engine crashed (SIGSEGV)" against the module.
- ``PackSandbox`` keeps one long-lived child per engine that evaluates the operators' packs. Each pack has its
  own interpreter there (the built-in modules plus that pack's module only), so a pack that fails to load fails
  alone. Every query waits at most ``Limits.query_budget``; on overrun or crash the child is killed (it cannot be
  interrupted otherwise), the pack is quarantined for ``Limits.quarantine`` seconds — its decisions carry the
  error at once instead of paying the budget again for each region — and a new child is started for the others
  on the next query.

The protocol is length-prefixed JSON messages (multiprocessing's Connection framing) over a socket pair; the
child's stdout and stderr go to /dev/null (rego-cpp prints parse reports on stdout). While it waits for an answer
the parent watches the child's resident memory and kills it above ``Limits.memory_mb``; the child asks the
kernel to kill it when its parent dies, and exits at end of input.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from .compile import PolicyError
from .limits import Limits
from .modules import PolicyModule

_MAX_MESSAGE = 64 * 1024 * 1024
_START_TIMEOUT = 30.0  # seconds for a child to start and load a pack, when no check_timeout is smaller
_WATCH = 0.05  # seconds between two looks at a busy child's memory
_PAGE = os.sysconf("SC_PAGE_SIZE")


class SandboxFailure(Exception):
    """The child did not answer: it overran its time budget, crashed, or broke the protocol."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # "timeout", "crash" or "memory"


# --- the parent's side ---------------------------------------------------------------------------------------


class _Child:
    """One child process and its connection."""

    def __init__(self, limits: Limits, *, cpu_seconds: int = 0) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno()), str(cpu_seconds)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, close_fds=True,
            )
        finally:
            theirs.close()
        self.connection = Connection(ours.detach())
        self.pid = os.getpid()  # a child started before a fork belongs to the parent process, not to us
        self.memory_mb = limits.memory_mb

    def exchange(self, message: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait at most `timeout` seconds for its reply."""
        try:
            self.connection.send_bytes(json.dumps(message, ensure_ascii=False, default=str).encode("utf-8"))
            self._wait(timeout)
            reply = json.loads(self.connection.recv_bytes(_MAX_MESSAGE))
        except (EOFError, OSError, ValueError):
            raise SandboxFailure(self._death(), kind="crash") from None
        if not isinstance(reply, dict):
            raise SandboxFailure("the policy engine's process answered nonsense", kind="crash")
        return reply

    def _wait(self, timeout: float) -> None:
        """Wait for a reply, watching the child's resident memory every _WATCH seconds; kill it on overrun."""
        deadline = time.monotonic() + timeout
        while not self.connection.poll(min(_WATCH, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                self.kill()
                raise SandboxFailure(f"took longer than {_seconds(timeout)}", kind="timeout")
            if self.resident_mb() > self.memory_mb:
                self.kill()
                raise SandboxFailure(f"the Rego engine used more than {self.memory_mb} MB of memory "
                                     "(SOUVERAIN_POLICY_MEMORY_MB)", kind="memory")

    def resident_mb(self) -> float:
        try:
            with open(f"/proc/{self.process.pid}/statm", encoding="ascii") as statm:
                return int(statm.read().split()[1]) * _PAGE / (1024 * 1024)
        except (OSError, ValueError, IndexError):  # gone, or not Linux: the time budget still holds
            return 0.0

    def _death(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the policy engine's process stopped answering"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"the Rego engine crashed ({signal.Signals(-code).name})"
            return f"the Rego engine crashed (signal {-code})"
        return f"the Rego engine's process exited with status {code}"

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.process.poll() is None

    def kill(self) -> None:
        if self.pid != os.getpid():
            return
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.connection.close()


def _out_of_memory(reply: Mapping[str, Any]) -> bool:
    # rego-cpp reports a failed allocation as an error, and may be unusable after it: start a new child.
    return "bad_alloc" in str(reply.get("error", ""))


def _memory_message(limits: Limits) -> str:
    return f"the Rego engine failed to allocate memory (limit {limits.memory_mb} MB, SOUVERAIN_POLICY_MEMORY_MB)"


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:g} s"


def _modules(modules: Sequence[PolicyModule]) -> list[list[str]]:
    return [[m.name, m.source] for m in modules]


def check(
    modules: Sequence[PolicyModule], blamed: str, settings: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
) -> tuple[list[PolicyError], dict[str, Any]]:
    """compile_modules, then run_tests if they compile, in a fresh child: (errors, tests).

    tests is {"passed": [names], "failed": [{"name", "message"}]}. A crash or an overrun of
    Limits.check_timeout is one error against the module `blamed` (the one being uploaded).
    """
    limits = limits or Limits()
    try:
        child = _Child(limits, cpu_seconds=int(limits.check_timeout) + 1)
    except OSError as exc:
        return [PolicyError(blamed, None, None, f"the policy engine's process could not be started: {exc}")], {}
    try:
        reply = child.exchange({"op": "check", "modules": _modules(modules), "settings": dict(settings or {}),
                                "blamed": blamed}, limits.check_timeout)
    except SandboxFailure as failure:
        if failure.kind == "timeout":
            message = (f"compiling and testing the module {failure} (SOUVERAIN_POLICY_CHECK_TIMEOUT); rules "
                       "iterating over large ranges, deep nesting or long expressions are the usual causes")
        else:
            message = (f"{failure} while compiling and testing the module; deep nesting or long expressions are "
                       "the usual causes")
        return [PolicyError(blamed, None, None, message)], {}
    finally:
        child.kill()
    if _out_of_memory(reply):
        return [PolicyError(blamed, None, None, f"{_memory_message(limits)} while compiling and testing the "
                                                "module; rules building large collections are the usual cause")], {}
    if "error" in reply:
        return [PolicyError(blamed, None, None, f"the check failed: {reply['error']}")], {}
    errors = [PolicyError(**e) for e in reply["errors"]]
    return errors, reply.get("tests") or {}


class PackSandbox:
    """Evaluates operators' packs in a child process, one query at a time, each within Limits.query_budget.

    ``evaluate(pack, document)`` returns {"deny": [...], "warn": [...]} or raises SandboxFailure / returns
    {"error": message} — see Engine.decide for how a failing pack enters a decision.
    """

    def __init__(self, builtin: Sequence[PolicyModule], packs: Mapping[str, PolicyModule],
                 settings: Mapping[str, Any], limits: Limits) -> None:
        self.builtin = list(builtin)
        self.packs = dict(packs)
        self.settings = dict(settings)
        self.limits = limits
        self._lock = threading.Lock()
        self._child: _Child | None = None
        self._loaded: set[str] = set()
        self._broken: dict[str, str] = {}  # pack -> the engine's error loading it: permanent for this set
        self._quarantine: dict[str, tuple[float, str]] = {}  # pack -> (until, why)

    def start(self) -> None:
        """Start the child now (in the background: Python starts while the caller goes on)."""
        with self._lock, contextlib.suppress(OSError):  # no process to spare now: evaluate() tries again
            self._ensure_child()

    def evaluate(self, pack: str, document: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            if pack in self._broken:
                return {"error": self._broken[pack]}
            until, why = self._quarantine.get(pack, (0.0, ""))
            if until > time.monotonic():
                return {"error": why}
            try:
                if pack not in self._loaded:
                    self._load(pack)
                    if pack in self._broken:
                        return {"error": self._broken[pack]}
                assert self._child is not None
                reply = self._child.exchange({"op": "decide", "pack": pack, "input": document},
                                             self.limits.query_budget)
                if _out_of_memory(reply):
                    raise SandboxFailure(_memory_message(self.limits), kind="memory")
                return reply
            except OSError as exc:  # the child could not be started (no memory, no process left...)
                self._discard_child()
                return {"error": f"the policy engine's process could not be started: {exc}"}
            except SandboxFailure as failure:
                self._discard_child()
                limit = " (SOUVERAIN_POLICY_QUERY_BUDGET_MS)" if failure.kind == "timeout" else ""
                what = "the query " if failure.kind == "timeout" else ""
                why = f"{what}{failure}{limit}; not evaluated again for {_seconds(self.limits.quarantine)}"
                self._quarantine[pack] = (time.monotonic() + self.limits.quarantine, why)
                return {"error": why, "kind": failure.kind}

    def _ensure_child(self) -> _Child:
        if self._child is None or not self._child.alive():
            self._discard_child()
            self._child = _Child(self.limits)
            # The child reads this as soon as it has started: no need to wait for its answer here.
            self._child.connection.send_bytes(json.dumps(
                {"op": "init", "builtin": _modules(self.builtin), "settings": self.settings}).encode("utf-8"))
        return self._child

    def _load(self, pack: str) -> None:
        child = self._ensure_child()
        timeout = min(self.limits.check_timeout, _START_TIMEOUT)
        reply = child.exchange({"op": "init-done"}, timeout)  # the reply to init, waited for once
        if "error" in reply:
            raise SandboxFailure(f"the policy engine's process failed to start: {reply['error']}", kind="crash")
        module = self.packs[pack]
        reply = child.exchange({"op": "load", "pack": pack, "module": [module.name, module.source]}, timeout)
        if _out_of_memory(reply):
            raise SandboxFailure(_memory_message(self.limits), kind="memory")
        if "error" in reply:
            self._broken[pack] = f"the module does not load: {reply['error']}"
        else:
            self._loaded.add(pack)

    def _discard_child(self) -> None:
        if self._child is not None:
            self._child.kill()
        self._child = None
        self._loaded.clear()

    def close(self) -> None:
        with self._lock:
            self._discard_child()

    def __del__(self) -> None:
        # An engine dropped without close() (tests, a one-off Engine()): its child goes with it, not at exit.
        with contextlib.suppress(Exception):
            if self._child is not None:
                self._child.kill()


# --- the child's side -----------------------------------------------------------------------------------------


def _harden(cpu_seconds: int) -> None:
    import ctypes
    import resource

    # Memory is watched by the parent (resident size), not limited here: rego-cpp's allocator (snmalloc) reserves
    # 256 GiB of address space up front, which RLIMIT_AS and RLIMIT_DATA both count.
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


class _Server:
    def __init__(self) -> None:
        self.builtin: list[PolicyModule] = []
        self.settings: dict[str, Any] = {}
        self.runtimes: dict[str, tuple[Any, Any, str]] = {}  # pack -> (interpreter, bundle, entrypoint)
        self.started: dict[str, Any] = {}

    def handle(self, request: dict[str, Any]) -> dict[str, Any] | None:
        op = request.get("op")
        if op == "init":
            self.builtin = [PolicyModule(name, source) for name, source in request["builtin"]]
            self.settings = dict(request.get("settings") or {})
            return None  # answered by init-done, which the parent waits for only when it needs the child
        if op == "init-done":
            return {"ok": True}
        if op == "check":
            return self.check([PolicyModule(n, s) for n, s in request["modules"]], request.get("settings") or {},
                              request.get("blamed"))
        if op == "load":
            return self.load(request["pack"], PolicyModule(*request["module"]))
        if op == "decide":
            return self.decide(request["pack"], request["input"])
        return {"error": f"unknown request {op!r}"}

    def check(self, modules: list[PolicyModule], settings: dict[str, Any], blamed: str | None) -> dict[str, Any]:
        from .compile import compile_modules
        from .testing import run_tests

        # The other modules are known to compile: only the uploaded one's rules need evaluating.
        errors = compile_modules(modules, evaluated=None if blamed is None else [blamed])
        if errors:
            return {"errors": [asdict(e) for e in errors]}
        report = run_tests(modules, settings, compiled=True)
        return {"errors": [], "tests": {"passed": report.passed,
                                        "failed": [{"name": n, "message": m} for n, m in report.failed]}}

    def load(self, pack: str, module: PolicyModule) -> dict[str, Any]:
        from . import _rego
        from .engine import _entrypoints_module, _rule_name

        try:
            interpreter = _rego.new_interpreter(self.settings)
            for trusted in self.builtin:
                _rego.add_module(interpreter, trusted.name, trusted.source)
            _rego.add_module(interpreter, module.name, module.source)
            _rego.add_module(interpreter, "souverain/entrypoints.rego", _entrypoints_module([pack]))
            entrypoint = f"souverain/entrypoints/{_rule_name(pack)}"
            bundle = _rego.build(interpreter, [entrypoint])
        except (_rego.RegoParseError, _rego.RegoEvalError) as exc:
            return {"error": str(exc)}
        self.runtimes[pack] = (interpreter, bundle, entrypoint)
        return {"ok": True}

    def decide(self, pack: str, document: Any) -> dict[str, Any]:
        from . import _rego

        interpreter, bundle, entrypoint = self.runtimes[pack]
        _rego.set_input(interpreter, document)
        try:
            result = _rego.query_entrypoint(interpreter, bundle, entrypoint)
        except _rego.RegoEvalError as exc:
            return {"error": f"evaluation error: {exc}"}
        if result is _rego.UNDEFINED:
            return {"deny": [], "warn": []}
        return {"deny": list(result.get("deny", [])), "warn": list(result.get("warn", []))}


def main(argv: list[str]) -> int:
    fd, cpu_seconds = (int(a) for a in argv[1:3])
    _harden(cpu_seconds)
    connection = Connection(fd)
    server = _Server()
    while True:
        try:
            request = json.loads(connection.recv_bytes(_MAX_MESSAGE))
        except (EOFError, OSError):
            return 0
        try:
            reply = server.handle(request)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which names the module
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        if reply is not None:
            connection.send_bytes(json.dumps(reply, ensure_ascii=False, default=str).encode("utf-8"))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
