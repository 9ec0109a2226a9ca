"""Decisions shared between processes, and the placement classes decided again ahead of users.

Each web process (``souverain run`` starts several) and each worker has its own in-memory decision cache
(``engine/cache.py``); a class one of them decided costs the others nothing if they can read it. The second
level is the database, because every mode has one (SQLite embedded, PostgreSQL at scale; Redis is only there
at scale): ``SharedDecision`` rows under the engine's own key, read in one query per placement for the regions
the process has not decided yet, written in one ``INSERT … ON CONFLICT DO NOTHING``.

Cold classes remain the expensive case (every region a Rego evaluation). The classes placements are asked
about are few and repeat (a tenant's defaults plus a handful of data-class sets), so ``PlacementClass`` keeps
them (deciding part only, hashed) and ``warm_placements`` — run by each compliance pass, which already follows
every estate, knowledge-base and policy change and the change of date — decides them again for the new context
before anybody asks. Rows of past dates are pruned by the same pass. The pass's own decisions (every
inventory class in its region) are shared too (``share_decided``): a what-if reads them instead of deciding
its "before" side and its destinations cold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError

from .engine.cache import canonical_hash, workload_profile
from .engine.engine import Decision
from .models import PlacementClass, SharedDecision

#: Classes decided again by each compliance pass: the most recently used, at most this many, used at most this
#: many days ago.
WARM_CLASSES = 200
WARM_DAYS = 30


def _text(key: tuple[str, ...]) -> str:
    return "|".join(key)


class DatabaseDecisions:
    """``placement.SharedDecisions`` over the ``SharedDecision`` table. A database error while reading or
    writing costs the sharing, never the placement."""

    def get_many(self, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], Decision]:
        by_text = {_text(key): key for key in keys}
        try:
            rows = SharedDecision.objects.filter(key__in=list(by_text)).values_list("key", "deny", "warn", "packs")
            return {by_text[k]: Decision(deny=deny, warn=warn, packs=packs) for k, deny, warn, packs in rows}
        except DatabaseError:
            return {}

    def put_many(self, decisions: Mapping[tuple[str, ...], Decision]) -> None:
        rows = [SharedDecision(key=_text(key), date=dt.date.fromisoformat(key[1]), deny=d.deny, warn=d.warn,
                               packs=list(d.packs)) for key, d in decisions.items()]
        try:
            SharedDecision.objects.bulk_create(rows, ignore_conflicts=True)
        except DatabaseError:
            pass


def class_key(workload: Mapping[str, Any]) -> str:
    return canonical_hash(workload_profile(workload, include_tenant=True))


def remember_class(workload: Mapping[str, Any], today: dt.date) -> None:
    """Note that placement was asked about this workload (one read, and a write at most once a day)."""
    key = class_key(workload)
    deciding = workload_profile(workload, include_tenant=True)
    try:
        if not PlacementClass.objects.filter(key=key, last_used__gte=today).exists():
            PlacementClass.objects.update_or_create(key=key, defaults={"workload": deciding, "last_used": today})
    except DatabaseError:
        pass


def share_decided(on: dt.date) -> int:
    """Put this process's decisions of ``on`` (the current policy set) in the shared store; returns how many.

    Run by the compliance job right after its pass, in the same process: the engine's cache then holds the
    decision of every inventory class in its region, under the same keys as everywhere. A what-if reads them
    (``mobility/services.py``: the "before" side of every class, and the destinations it may move to), as does
    a placement of the same workload in another process. At most the cache's size; rows already there are
    skipped by the insert."""
    from . import services

    engine = services.current_engine()
    day, version = on.isoformat(), engine.policy_set.version
    decided = {key: decision for key, decision in engine.cache.items() if key[0] == version and key[1] == day
               and not getattr(decision, "errors", None)}
    DatabaseDecisions().put_many(decided)
    return len(decided)


def warm_placements(on: dt.date) -> int:
    """Decide every recently used placement class in every region for ``on``, through both cache levels, and
    drop shared decisions of past dates. Returns the number of classes decided."""
    from . import placement, services

    SharedDecision.objects.filter(date__lt=on).delete()
    share_decided(on)
    classes = PlacementClass.objects.filter(last_used__gte=on - dt.timedelta(days=WARM_DAYS))
    workloads = list(classes.order_by("-last_used").values_list("workload", flat=True)[:WARM_CLASSES])
    if not workloads:
        return 0
    engine = services.current_engine()
    context = services.current_context(on)
    store = DatabaseDecisions()
    for workload in workloads:
        cases = placement.visible_cases(context.cases, workload.get("tenant"))
        placement.decide_all(workload, cases, context, on, engine, store)
    return len(workloads)
