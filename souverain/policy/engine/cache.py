"""The one decision cache: deciding once per equivalence class of (policy set, date, workload, region, KB).

A decision depends on nothing but its input document (souverain/policies/INPUT.md) and the policy set, so its
key is the policy set's version and a hash of each part of the document a rule can read: the date, the
workload (all of it but its name and preferences), the region's profile and the knowledge-base input
(adequacy decisions, DPF certifications...). Placement and compliance both decide through the engine's one
``DecisionCache`` with this key: ``Engine.decide_cached`` hashes a whole document, ``placement.decide_all``
hashes each region profile and the knowledge base once per context and builds the same key with ``key_of``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

V = TypeVar("V")


def canonical_hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


#: Workload keys no rule reads: the workload's name labels a request, and region preferences only rank the
#: allowed regions after every decision is made. Everything else a workload carries is part of the decision.
NOT_DECIDING = frozenset({"name", "preferences", "size"})  # size: capacity ranks with it, rules do not read it


def _canonical(value: Any) -> Any:
    """``value`` with every list sorted: in a workload every list is a set (data classes, laws, countries,
    safeguards...), and the one ordered list, region preferences, is not part of a decision."""
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


def workload_profile(workload: Mapping[str, Any], *, include_tenant: bool = False) -> dict[str, Any]:
    """The workload as rules see it, in a canonical form: the whole document but its name and preferences.

    Derived from the document rather than from a list of known attributes, so that an attribute added to
    workloads later (the tenant's legal category, say) is in the key the day it reaches the rules. The
    tenant's slug is the one exception: no built-in rule reads it, so two tenants with the same attributes
    share their decisions; the engine puts it back (include_tenant) when a loaded module refers to it.
    """
    return {
        key: _canonical(value) for key, value in workload.items()
        if key not in NOT_DECIDING and (include_tenant or key != "tenant")
    }


def decision_input(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The ``workload`` part of an input document: what the rules get to read (tenant included)."""
    return {key: value for key, value in workload.items() if key not in NOT_DECIDING}


def key_of(policy_version: str, date: str, workload_hash: str, region_hash: str, kb_hash: str) -> tuple[str, ...]:
    """The cache key from the hashes of a document's parts, for callers that hash each part once (placement
    hashes every region profile once per estate version, not once per decision)."""
    return (policy_version, date, workload_hash, region_hash, kb_hash)


def decision_key(policy_version: str, document: Mapping[str, Any], *, include_tenant: bool = False) -> tuple[str, ...]:
    """(policy set version, date, workload profile hash, region hash, knowledge base hash): every part of the
    input document a rule can read (see souverain/policies/INPUT.md).

    The knowledge base is part of the key: an adequacy decision or a DPF certification added during the
    day changes the outcome for the same region and workload.
    """
    return key_of(
        policy_version,
        str(document.get("date")),
        canonical_hash(workload_profile(document.get("workload") or {}, include_tenant=include_tenant)),
        canonical_hash(document.get("region")),
        canonical_hash(document.get("kb")),
    )


class DecisionCache(Generic[V]):
    """A thread-safe LRU map with a size bound and hit/miss counters."""

    def __init__(self, maxsize: int = 200_000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, ...], V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: tuple[str, ...], value: V) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def items(self) -> list[tuple[tuple[str, ...], V]]:
        """A copy of every (key, value), least recently used first (for sharing them: ``policy/shared.py``)."""
        with self._lock:
            return list(self._entries.items())

    def invalidate(self) -> None:
        """Forget every decision (after the knowledge base or a policy changed); counters are kept."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
