"""Evaluating the applicable packs for one placement decision.

The built-in packs are trusted: compiled once per thread in-process and queried through a bundle (~1 ms a
pack). Operators' packs (souverain.custom.*) never reach the in-process engine: their text is first checked
against the limits (limits.py), then loaded and evaluated in a child process with a time budget per query
(sandbox.py). A custom pack that cannot be evaluated — over a limit, not loading, overrunning its budget,
crashing the engine — fails closed: the decision carries a denial naming the module and the reason, and the
error in `Decision.errors`, while the built-in packs and the other custom packs are decided as usual.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _rego, verified
from .applicability import applicable_packs
from .cache import DecisionCache, decision_key
from .compile import PolicyCompileError, compile_modules
from .limits import Limits, source_problems
from .modules import CUSTOM_PREFIX, PolicyModule, PolicySet, builtin_policy_set, load_packs_config, pack_name
from .sandbox import PackSandbox

ENTRYPOINTS_PACKAGE = "souverain.entrypoints"

_TENANT = re.compile(r"\.tenant\b|\"tenant\"")


@dataclass(frozen=True)
class Decision:
    """What the packs say about one workload in one region: denials (any one forbids the placement) and
    warnings, each {"rule", "message", "facts", "source"}; `packs` lists the packs evaluated; `errors` the
    operators' packs that could not be evaluated, each {"pack", "module", "message"} (each also denies)."""

    deny: list[dict[str, Any]] = field(default_factory=list)
    warn: list[dict[str, Any]] = field(default_factory=list)
    packs: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.deny

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "deny": self.deny, "warn": self.warn, "packs": self.packs,
                "errors": self.errors}


def _rule_name(pack: str) -> str:
    return pack.replace(".", "__")


def _entrypoints_module(packs: list[str]) -> str:
    """One rule per pack returning its deny and warn sets together, so that a pack costs one bundle query.

    A package without `warn` (or `deny`) yields an empty set rather than leaving the pack undefined.
    """
    lines = [f"package {ENTRYPOINTS_PACKAGE}", "", "import rego.v1", ""]
    for pack in packs:
        rule = _rule_name(pack)
        lines += [
            f'{rule} := {{"deny": d, "warn": w}} if {{',
            f"\td := {rule}_deny",
            f"\tw := {rule}_warn",
            "}",
            "",
        ]
        for kind in ("deny", "warn"):
            lines += [f"{rule}_{kind} := v if {{", f"\tv := data.souverain.{pack}.{kind}", "} else := set()", ""]
    return "\n".join(lines)


def _violation(pack: str, value: Any) -> dict[str, Any]:
    # Custom modules may return bare strings, or leave out whom the rule binds and the French: give every entry
    # the same shape (souverain/policies/INPUT.md), the English standing in for a French text not given.
    if isinstance(value, dict) and "rule" in value and "message" in value:
        entry = {"facts": {}, "source": "", "binds": "", **value}
    else:
        entry = {"rule": pack, "message": str(value), "facts": {}, "source": "", "binds": ""}
    for key in ("message", "source", "binds"):
        entry.setdefault(f"{key}_fr", entry[key])
    return entry


def _failure(pack: str, module: str, message: str) -> dict[str, Any]:
    """The denial standing for a custom pack that could not be evaluated: fail closed, and say why."""
    return {"rule": pack, "message": f"{module} could not be evaluated: {message}. Fix or deactivate the policy.",
            "facts": {"error": message, "module": module}, "source": "Souverain policy limits (docs/policies.md)"}


class Engine:
    """Decides placements with one policy set, compiled once per thread and reused for every decision.

    rego-cpp recompiles every module on each plain query (~30 ms with the six packs), so the engine builds
    a bundle with one entrypoint per pack and, per decision, only swaps the input and queries the
    entrypoints of the applicable packs (~1 ms each). Interpreters are not thread-safe: each thread builds
    its own bundle, once. Operators' packs go to one child process per engine (see the module docstring);
    call close() when the engine is dropped, or let the child exit with the process.
    """

    def __init__(
        self,
        policy_set: PolicySet | None = None,
        packs_config: Mapping[str, Any] | None = None,
        cache: DecisionCache[Decision] | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.packs_config = dict(packs_config) if packs_config is not None else load_packs_config()
        self.policy_set = policy_set if policy_set is not None else builtin_policy_set(packs_config=self.packs_config)
        self.limits = limits or Limits()
        custom = {m for m in self.policy_set.policy_modules if (m.package or "").startswith(CUSTOM_PREFIX)}
        self.trusted_modules = [m for m in self.policy_set.policy_modules if m not in custom]
        checked = verified.fingerprint(self.trusted_modules)
        if not verified.known_good(checked):
            errors = compile_modules(self.trusted_modules)
            if errors:
                raise PolicyCompileError(errors)
            verified.remember(checked)
        self.packs = self.policy_set.packs
        self.custom_packs = [p for p in self.packs if f"souverain.{p}".startswith(CUSTOM_PREFIX)]
        self.trusted_packs = [p for p in self.packs if p not in self.custom_packs]
        self.custom_modules: dict[str, PolicyModule] = {pack_name(m.package or "") or m.name: m for m in custom}
        # Over a limit: refused before the engine sees the text, for this engine's whole life.
        self.refused: dict[str, str] = {}
        for pack, module in self.custom_modules.items():
            problems = source_problems(module, self.limits)
            if problems:
                self.refused[pack] = "; ".join(str(p) for p in problems)
        self.cache = cache if cache is not None else DecisionCache()
        # Tenant names only enter the cache key when some module reads them.
        self.reads_tenant = any(_TENANT.search(m.source) for m in self.policy_set.policy_modules)
        self._local = threading.local()
        self.sandbox: PackSandbox | None = None
        if set(self.custom_modules) - set(self.refused):
            self.sandbox = PackSandbox(self.trusted_modules, self.custom_modules, self.policy_set.settings,
                                       self.limits)
            self.sandbox.start()

    def close(self) -> None:
        """Stop the child process evaluating operators' packs (a new one starts if the engine is used again)."""
        if self.sandbox is not None:
            self.sandbox.close()

    def _runtime(self) -> tuple[Any, Any]:
        runtime = getattr(self._local, "runtime", None)
        if runtime is None:
            interpreter = _rego.new_interpreter(dict(self.policy_set.settings))
            for module in self.trusted_modules:
                _rego.add_module(interpreter, module.name, module.source)
            _rego.add_module(interpreter, "souverain/entrypoints.rego", _entrypoints_module(self.trusted_packs))
            entrypoints = [f"souverain/entrypoints/{_rule_name(p)}" for p in self.trusted_packs]
            runtime = self._local.runtime = (interpreter, _rego.build(interpreter, entrypoints))
        return runtime

    def packs_for(self, workload: Mapping[str, Any]) -> list[str]:
        """The packs a decision for this workload evaluates: the applicable built-in ones, then all custom."""
        builtin = [p for p in applicable_packs(workload, self.packs_config) if p in self.packs]
        return builtin + self.custom_packs

    def decide(self, document: Mapping[str, Any]) -> Decision:
        """Evaluate the applicable packs on one input document (see souverain/policies/INPUT.md)."""
        packs = self.packs_for(document.get("workload") or {})
        deny: list[dict[str, Any]] = []
        warn: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        trusted = [p for p in packs if p not in self.custom_modules]
        if trusted:
            interpreter, bundle = self._runtime()
            _rego.set_input(interpreter, document)
            for pack in trusted:
                result = _rego.query_entrypoint(interpreter, bundle, f"souverain/entrypoints/{_rule_name(pack)}")
                if result is _rego.UNDEFINED:
                    continue
                deny += [_violation(pack, v) for v in result.get("deny", [])]
                warn += [_violation(pack, v) for v in result.get("warn", [])]
        for pack in packs:
            if pack not in self.custom_modules:
                continue
            module = self.custom_modules[pack].name
            if pack in self.refused:
                result = {"error": self.refused[pack]}
            else:
                assert self.sandbox is not None
                result = self.sandbox.evaluate(pack, document)
            if "error" in result:
                errors.append({"pack": pack, "module": module, "message": result["error"]})
                deny.append(_failure(pack, module, result["error"]))
                continue
            deny += [_violation(pack, v) for v in result.get("deny", [])]
            warn += [_violation(pack, v) for v in result.get("warn", [])]
        order = lambda v: (v["rule"], v["message"])  # noqa: E731 - stable output whatever rego-cpp's set order
        return Decision(sorted(deny, key=order), sorted(warn, key=order), packs, errors)

    def decide_cached(self, document: Mapping[str, Any]) -> Decision:
        """decide(), reusing the decision of an equivalent document (same key, see cache.decision_key).

        A decision with errors is not kept: it stands for a pack that may work again (after its quarantine).
        """
        key = decision_key(self.policy_set.version, document, include_tenant=self.reads_tenant)
        decision = self.cache.get(key)
        if decision is None:
            decision = self.decide(document)
            if not decision.errors:
                self.cache.put(key, decision)
        # Callers get their own copy: a cached decision is shared between requests.
        return copy.deepcopy(decision)
