"""Deciding once per equivalence class of (policy set, date, workload, region, knowledge base)."""

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


def _sorted(values: Any) -> list[Any]:
    return sorted(values or (), key=lambda v: json.dumps(v, sort_keys=True, default=str))


def workload_profile(workload: Mapping[str, Any], *, include_tenant: bool = False) -> dict[str, Any]:
    """The attributes of a workload that rules read, in a canonical form.

    The tenant's name is left out: no built-in rule reads it, so two tenants with the same data classes,
    requirements and safeguards share their decisions. The engine puts it back (include_tenant) when a
    loaded module refers to it. Lists whose order carries no meaning are sorted.
    """
    requirements = dict(workload.get("requirements") or {})
    for key in ("no_exposure_to", "allowed_countries", "packs"):
        if key in requirements:
            requirements[key] = _sorted(set(requirements[key] or ()))
    profile = {
        "data_classes": _sorted(set(workload.get("data_classes") or ())),
        "requirements": requirements,
        "safeguards": _sorted(workload.get("safeguards")),
    }
    if include_tenant:
        profile["tenant"] = workload.get("tenant")
    return profile


def decision_key(policy_version: str, document: Mapping[str, Any], *, include_tenant: bool = False) -> tuple[str, ...]:
    """(policy set version, date, workload profile hash, region hash, knowledge base hash).

    The knowledge base is part of the key: an adequacy decision or a DPF certification added during the
    day changes the outcome for the same region and workload.
    """
    return (
        policy_version,
        str(document.get("date")),
        canonical_hash(workload_profile(document.get("workload") or {}, include_tenant=include_tenant)),
        canonical_hash(document.get("region")),
        canonical_hash(document.get("kb")),
    )


class DecisionCache(Generic[V]):
    """A thread-safe LRU map with a size bound and hit/miss counters."""

    def __init__(self, maxsize: int = 10_000) -> None:
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

    def invalidate(self) -> None:
        """Forget every decision (after the knowledge base or a policy changed); counters are kept."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
