"""Policy modules, policy sets and the built-in packs shipped in souverain/policies."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

import yaml

BUILTIN_PACKAGE = "souverain.policies"
PACK_PREFIX = "souverain."
CUSTOM_PREFIX = "souverain.custom."
LIBRARY_PACKAGES = frozenset({"souverain.lib"})

_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_][\w.]*)", re.MULTILINE)


@dataclass(frozen=True)
class PolicyModule:
    """One Rego file: a name (shown in errors, e.g. "secnumcloud.rego") and its source text."""

    name: str
    source: str

    @property
    def package(self) -> str | None:
        match = _PACKAGE.search(self.source)
        return match.group(1) if match else None

    @property
    def is_test(self) -> bool:
        # opa's convention: tests (and their fixtures) live in *_test.rego files.
        return self.name.endswith("_test.rego")


def pack_name(package: str) -> str | None:
    """Pack name of a package: souverain.hds -> hds, souverain.custom.acme -> custom.acme, else None."""
    if not package.startswith(PACK_PREFIX) or package in LIBRARY_PACKAGES:
        return None
    return package[len(PACK_PREFIX) :]


@dataclass(frozen=True)
class PolicySet:
    """The modules one engine evaluates, and the packs' settings from packs.yaml.

    `version` identifies the set: it changes when any module or setting changes, and it is part of every
    cached decision's key.
    """

    modules: tuple[PolicyModule, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, modules: Iterable[PolicyModule], settings: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "modules", tuple(sorted(modules, key=lambda m: m.name)))
        object.__setattr__(self, "settings", dict(settings or {}))

    @cached_property
    def version(self) -> str:
        digest = hashlib.sha256()
        for module in self.modules:
            for part in (module.name, module.source):
                digest.update(part.encode("utf-8"))
                digest.update(b"\0")
        digest.update(json.dumps(self.settings, sort_keys=True, separators=(",", ":")).encode("utf-8"))
        return digest.hexdigest()[:16]

    @property
    def policy_modules(self) -> list[PolicyModule]:
        return [m for m in self.modules if not m.is_test]

    @property
    def test_modules(self) -> list[PolicyModule]:
        return [m for m in self.modules if m.is_test]

    @property
    def packs(self) -> list[str]:
        """Pack names defined by the non-test modules, built-in ("hds") and custom ("custom.acme")."""
        names = {pack_name(m.package) for m in self.policy_modules if m.package}
        return sorted(n for n in names if n)


def _builtin_files() -> list[resources.abc.Traversable]:
    return sorted(
        (f for f in resources.files(BUILTIN_PACKAGE).iterdir() if f.name.endswith(".rego")), key=lambda f: f.name
    )


def builtin_modules(*, tests: bool = False) -> list[PolicyModule]:
    """The built-in packs (and their shared library); with tests=True also their *_test.rego files."""
    modules = [PolicyModule(f.name, f.read_text(encoding="utf-8")) for f in _builtin_files()]
    return [m for m in modules if tests or not m.is_test]


def load_packs_config() -> dict[str, Any]:
    """packs.yaml: for each built-in pack, when it applies, its source and its settings."""
    text = resources.files(BUILTIN_PACKAGE).joinpath("packs.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml when available


def pack_settings(packs_config: Mapping[str, Any]) -> dict[str, Any]:
    return {name: dict(pack.get("settings") or {}) for name, pack in packs_config.get("packs", {}).items()}


def builtin_policy_set(extra: Iterable[PolicyModule] = (), packs_config: Mapping[str, Any] | None = None) -> PolicySet:
    """The built-in packs plus `extra` (operators' custom modules), with packs.yaml's settings."""
    config = packs_config if packs_config is not None else load_packs_config()
    return PolicySet([*builtin_modules(), *extra], pack_settings(config))
