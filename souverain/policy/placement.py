"""Placement: for a workload, which regions it may use (ranked) and, for every other one, why not.

Decisions are made once per equivalence class — (policy set version, date, the workload's decision
attributes, the region's profile) — and reused: regopy costs milliseconds per query, a dict lookup does not.
Region profiles are computed once per (estate version, knowledge base, date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from souverain.estate.exposure import region_profile
from souverain.estate.snapshot import EstateData
from souverain.sovereignty.kb import KnowledgeBase

from .workloads import decision_attributes

Decide = Callable[[dict[str, Any]], tuple[list[dict[str, Any]], list[dict[str, Any]]]]


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


@dataclass(frozen=True)
class RegionCase:
    key: str
    cloud: str
    profile: dict[str, Any]
    profile_hash: str


class LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Any) -> Any:
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                self.hits += 1
                return self.data[key]
            self.misses += 1
            return None

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


_profiles = LRU(64)  # (estate and KB token, date) -> Context
_decisions = LRU(200_000)  # (policy version, date, workload hash, profile hash) -> (deny, warn)


def clear_caches() -> None:
    _profiles.clear()
    _decisions.clear()


def cache_stats() -> dict[str, int]:
    return {"decision_hits": _decisions.hits, "decision_misses": _decisions.misses, "decisions": len(_decisions.data)}


@dataclass(frozen=True)
class Context:
    """What every decision of a date needs from the estate and the knowledge base, computed once."""

    cases: list[RegionCase]
    kb_input: dict[str, Any]


def cached_context(token: str, on: dt.date) -> Context | None:
    return _profiles.get((token, on))


def build_context(estate: EstateData, kb: KnowledgeBase, on: dt.date, token: str | None = None) -> Context:
    cases = []
    for cloud, region in estate.regions():
        profile = region_profile(estate, cloud.id, region.id, kb, on)
        profile.pop("laws", None)  # the per-law verdicts are for people; rules read `exposure`
        cases.append(RegionCase(f"{cloud.id}/{region.id}", cloud.id, profile, canonical_hash(profile)))
    dpf = sorted(e.id for e in estate.entities.values() if e.dpf_valid_on(on))
    context = Context(cases, kb.as_policy_input(dpf))
    if token:
        _profiles.put((token, on), context)
    return context


def policy_input(workload: Mapping[str, Any], profile: Mapping[str, Any], kb_input: Mapping[str, Any],
                 on: dt.date) -> dict[str, Any]:
    return {
        "date": on.isoformat(),
        "workload": {"tenant": workload.get("tenant"), **decision_attributes(workload)},
        "region": profile,
        "kb": kb_input,
    }


def decide_all(workload: Mapping[str, Any], cases: list[RegionCase], kb_input: Mapping[str, Any], on: dt.date,
               policy_version: str, decide: Decide) -> list[tuple[RegionCase, list[dict], list[dict]]]:
    workload_hash = canonical_hash(decision_attributes(workload))
    results = []
    for case in cases:
        key = (policy_version, on, workload_hash, case.profile_hash)
        decision = _decisions.get(key)
        if decision is None:
            decision = decide(policy_input(workload, case.profile, kb_input, on))
            _decisions.put(key, decision)
        results.append((case, *decision))
    return results


def rank(workload: Mapping[str, Any], results: list[tuple[RegionCase, list[dict], list[dict]]]) -> dict[str, Any]:
    """Allowed regions by score (tenant preference first, fewer warnings next), denied ones with every reason."""
    preferred = list((workload.get("preferences") or {}).get("regions") or [])
    allowed, denied = [], []
    for case, deny, warn in results:
        if deny:
            denied.append({
                "region": case.key, "cloud": case.cloud,
                "reasons": [_reason(d) for d in sorted(deny, key=lambda d: (d.get("rule", ""), d.get("message", "")))],
            })
            continue
        score = 100 - 5 * len(warn)
        if case.key in preferred:
            score += 50 - 5 * preferred.index(case.key)
        allowed.append({"region": case.key, "cloud": case.cloud, "score": max(score, 0),
                        "warnings": [_reason(w) for w in sorted(warn, key=lambda w: w.get("rule", ""))]})
    allowed.sort(key=lambda a: (-a["score"], a["region"]))
    denied.sort(key=lambda d: d["region"])
    return {"allowed": allowed, "denied": denied}


def _reason(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"rule": entry.get("rule", ""), "message": entry.get("message", ""), "facts": entry.get("facts", {}),
            "source": entry.get("source", "")}
