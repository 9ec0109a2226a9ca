"""Souverain's policy engine: Rego packs evaluated with regopy. Pure Python, no Django.

Usage: ``engine = Engine()`` loads the built-in packs of souverain/policies and compiles them once;
``engine.decide_cached(doc)`` returns a Decision (``allowed``, ``deny``, ``warn``) for an input document
shaped as souverain/policies/INPUT.md describes. Operators' modules are held to ``Limits`` (limits.py) and
run in a child process (sandbox.py): see engine.py's docstring.
"""

from . import sandbox
from .applicability import applicable_packs
from .cache import DecisionCache, canonical_hash, decision_key, workload_profile
from .compile import PolicyCompileError, PolicyError, compile_modules
from .engine import Decision, Engine
from .limits import Limits, source_problems
from .modules import (
    PolicyModule,
    PolicySet,
    builtin_modules,
    builtin_policy_set,
    load_packs_config,
    pack_settings,
)
from .testing import TestReport, run_tests

__all__ = [
    "Decision",
    "DecisionCache",
    "Engine",
    "Limits",
    "PolicyCompileError",
    "PolicyError",
    "PolicyModule",
    "PolicySet",
    "TestReport",
    "applicable_packs",
    "builtin_modules",
    "builtin_policy_set",
    "canonical_hash",
    "compile_modules",
    "decision_key",
    "load_packs_config",
    "pack_settings",
    "run_tests",
    "sandbox",
    "source_problems",
    "workload_profile",
]
