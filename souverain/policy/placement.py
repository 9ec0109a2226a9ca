"""Placement: for a workload, which regions it may use (ranked) and, for every other one, why not.

Decisions are made once per equivalence class and reused: regopy costs milliseconds per query, a dict
lookup does not. There is ONE decision cache, the engine's (``engine/cache.py``), whose key covers every
part of the input document a rule can read — policy set version, date, the whole workload but its name and
preferences, the region's profile, the knowledge-base input — so a knowledge-base release, a tenant
attribute or a new workload attribute can never be answered from a decision made without it. This module
hashes each region profile and the knowledge-base input once per ``Context`` (not once per decision) and
builds the engine's key from those hashes with ``cache.key_of``.

A ``Context`` (the region profiles and the knowledge-base input of one date) is computed once per
(estate version, knowledge base, date) by ``build_context``, the one context builder of placement and
compliance; the database-backed caller is ``services.current_context``.

A private cloud belongs to the tenants it is dedicated to: ``visible_cases`` keeps a workload to public clouds
and its own tenant's private ones, and compliance flags a resource found in another customer's private cloud.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from souverain.estate.exposure import region_profile
from souverain.estate.snapshot import EstateData
from souverain.sovereignty.kb import KnowledgeBase

from .engine.cache import DecisionCache, canonical_hash, decision_input, key_of, workload_profile
from .engine.engine import Decision
from .workloads import merge, validate


class Decider(Protocol):
    """What placement needs of the engine (``souverain.policy.engine.Engine``): its decision cache, whether a
    loaded module reads the tenant's slug, its policy set's version and ``decide``."""

    cache: DecisionCache[Any]
    reads_tenant: bool
    policy_set: Any
    packs_config: Mapping[str, Any]

    def decide(self, document: Mapping[str, Any]) -> Any: ...  # a Decision: .deny and .warn

    def packs_for(self, workload: Mapping[str, Any]) -> list[str]: ...


#: Points a region with room gains for its capacity headroom (the share of its scarcest resource class left free
#: once the workload is placed, 0 to 1): less than a preferred region's bonus, more than a few warnings.
HEADROOM_POINTS = 20
UNKNOWN_CAPACITY = {"status": "unknown", "headroom": None, "taken_at": None, "hosted": None, "missing": {},
                    "message": "capacity unknown", "message_fr": "capacité inconnue"}


@dataclass(frozen=True)
class RegionCase:
    key: str
    cloud: str
    profile: dict[str, Any]
    profile_hash: str
    #: The tenants (slugs) the region's cloud is dedicated to; empty: a public cloud.
    dedicated_to: frozenset[str] = frozenset()

    def open_to(self, tenant: str | None) -> bool:
        """A public cloud is open to every workload; a private one only to its own tenants' workloads."""
        return not self.dedicated_to or tenant in self.dedicated_to


def visible_cases(cases: list[RegionCase], tenant: str | None) -> list[RegionCase]:
    """The regions a tenant's workload may be placed in at all: public clouds and the tenant's own private
    ones. Another customer's private cloud is left out entirely, not denied: its existence is not the
    tenant's to know. A workload with no tenant (what-if) gets public clouds only."""
    return [case for case in cases if case.open_to(tenant)]


@dataclass(frozen=True)
class Context:
    """What every decision of a date needs from the estate and the knowledge base, computed once."""

    cases: list[RegionCase]
    kb_input: dict[str, Any]
    kb_hash: str


_contexts: DecisionCache[Context] = DecisionCache(64)  # (estate and KB token, date) -> Context


def clear_caches() -> None:
    _contexts.invalidate()


def cached_context(token: str, on: dt.date) -> Context | None:
    return _contexts.get((token, on.isoformat()))


def build_context(estate: EstateData, kb: KnowledgeBase, on: dt.date, token: str | None = None) -> Context:
    cases = []
    for cloud, region in estate.regions():
        profile = region_profile(estate, cloud.id, region.id, kb, on)
        profile.pop("laws", None)  # the per-law verdicts are for people; rules read `exposure`
        cases.append(RegionCase(f"{cloud.id}/{region.id}", cloud.id, profile, canonical_hash(profile),
                                frozenset(cloud.dedicated_to)))
    dpf = sorted(e.id for e in estate.entities.values() if e.dpf_valid_on(on))
    kb_input = kb.as_policy_input(dpf)
    context = Context(cases, kb_input, canonical_hash(kb_input))
    if token:
        _contexts.put((token, on.isoformat()), context)
    return context


def policy_input(workload: Mapping[str, Any], profile: Mapping[str, Any], kb_input: Mapping[str, Any],
                 on: dt.date) -> dict[str, Any]:
    """The input document of one decision (souverain/policies/INPUT.md)."""
    return {"date": on.isoformat(), "workload": decision_input(workload), "region": profile, "kb": kb_input}


class SharedDecisions(Protocol):
    """A second-level store of decisions shared by every process (the database: ``policy/shared.py``), keyed
    like the engine's cache. A process meeting a class for the first time reads what another one decided;
    what it decides itself it writes back, in one statement per placement."""

    def get_many(self, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], Decision]: ...

    def put_many(self, decisions: Mapping[tuple[str, ...], Decision]) -> None: ...


def decide_all(workload: Mapping[str, Any], cases: list[RegionCase], context: Context, on: dt.date,
               engine: Decider, shared: SharedDecisions | None = None,
               ) -> list[tuple[RegionCase, list[dict], list[dict]]]:
    """The decision of every case, each taken from the engine's cache, else from the shared store, else made
    once and put in both.

    A cold case costs a Rego evaluation (~5 ms: rego-cpp parses the input document, then one query per
    applicable pack). Evaluating every region in one query (``with input.region as r`` over the profiles as
    data) was measured slower — 171 ms for one pack over 20 regions, against ~2 ms a region — so the answer to
    cold classes is to meet them less often: the shared store across processes, and the compliance job
    re-deciding the classes placements used once the estate, the knowledge base, the policies or the date
    change (``services.warm_placements``).

    The lists returned are the cached ones: read them, do not change them."""
    version = engine.policy_set.version
    workload_hash = canonical_hash(workload_profile(workload, include_tenant=engine.reads_tenant))
    keys = [key_of(version, on.isoformat(), workload_hash, case.profile_hash, context.kb_hash) for case in cases]
    found: dict[tuple[str, ...], Any] = {}
    for key in keys:
        decision = engine.cache.get(key)
        if decision is not None:
            found[key] = decision
    if shared is not None and len(found) < len(keys):
        for key, decision in shared.get_many([k for k in keys if k not in found]).items():
            engine.cache.put(key, decision)
            found[key] = decision
    made: dict[tuple[str, ...], Any] = {}
    results = []
    for case, key in zip(cases, keys, strict=True):
        decision = found.get(key)
        if decision is None:
            decision = engine.decide(policy_input(workload, case.profile, context.kb_input, on))
            if not getattr(decision, "errors", None):  # an operator's pack failed: decide again once it works
                engine.cache.put(key, decision)
                made[key] = decision
            found[key] = decision
        results.append((case, decision.deny, decision.warn))
    if shared is not None and made:
        shared.put_many(made)
    return results


def rank(workload: Mapping[str, Any], results: list[tuple[RegionCase, list[dict], list[dict]]],
         capacity: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Allowed regions by score (tenant preference first, fewer warnings next), denied ones with every reason.

    ``capacity``, when given, is each region's capacity verdict for the workload's size (``capacity.fit``: fits,
    full or unknown): a region with room gains up to ``HEADROOM_POINTS`` by its headroom, an "allowed but full"
    one is ranked after every other allowed one, and a region never measured is neither (no claim)."""
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
        entry = {"region": case.key, "cloud": case.cloud, "score": max(score, 0),
                 "warnings": [_reason(w) for w in sorted(warn, key=lambda w: w.get("rule", ""))]}
        if capacity is not None:
            verdict = dict(capacity.get(case.key) or UNKNOWN_CAPACITY)
            if verdict.get("status") == "fits" and verdict.get("headroom") is not None:
                entry["score"] += round(HEADROOM_POINTS * float(verdict["headroom"]))
            entry["capacity"] = verdict
        allowed.append(entry)
    allowed.sort(key=lambda a: ((a.get("capacity") or {}).get("status") == "full", -a["score"], a["region"]))
    denied.sort(key=lambda d: d["region"])
    return {"allowed": allowed, "denied": denied}


def answer(workload: Mapping[str, Any], context: Context, on: dt.date, engine: Decider,
           capacity: Mapping[str, Mapping[str, Any]] | None = None, shared: SharedDecisions | None = None,
           ) -> dict[str, Any]:
    """The stable placement JSON (docs/policies.md) of a merged workload: allowed regions ranked, denied ones
    with every reason. The one tail of the API's placement (``services.place``) and the offline one below.
    ``capacity``: each region's capacity verdict (see ``rank``), passed as plain data by the caller; ``shared``:
    the decisions other processes made (see ``decide_all``)."""
    cases = visible_cases(context.cases, workload.get("tenant"))
    ranked = rank(workload, decide_all(workload, cases, context, on, engine, shared), capacity)
    return {
        **ranked,
        "workload": dict(workload),
        "date": on.isoformat(),
        "policy_version": engine.policy_set.version,
        "packs": engine.packs_for({k: workload[k] for k in ("data_classes", "requirements")}),
    }


def place_offline(raw: Mapping[str, Any], on: dt.date, estate: EstateData, kb: KnowledgeBase,
                  engine: Decider) -> dict[str, Any]:
    """Placement from files alone — an estate, the knowledge base, the packs — with neither Django nor a
    database: what ``souverain place --estate FILE`` runs (a what-if from the shell, which must answer in a
    second). The workload is validated like the API's and stands alone (no tenant defaults to merge)."""
    validate(raw, known_laws=[law.slug for law in kb.laws],
             known_packs=list((engine.packs_config or {}).get("packs") or {}))
    return answer(merge([raw]), build_context(estate, kb, on), on, engine)


def _reason(entry: Mapping[str, Any]) -> dict[str, Any]:
    # Every text in English and French (souverain/policies/INPUT.md): the API, CLI and portal pick the user's.
    texts = {key: entry.get(key, "") for key in ("message", "source", "binds")}
    texts.update({f"{key}_fr": entry.get(f"{key}_fr") or value for key, value in texts.items()})
    return {"rule": entry.get("rule", ""), **texts, "facts": entry.get("facts", {})}
