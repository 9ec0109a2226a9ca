"""What-if against the live estate: "what if the sovereign cloud moved onto the vendor's stack?", answered from
the database without writing anything to it.

The question is a change file (``changes.py``: a few edits of the estate and the knowledge base) or a whole
alternative estate file. The answer compares two placement contexts built by the one context builder
(``policy.placement.build_context``): the live one (``policy.services.current_context``, cached) and the changed
one (built in memory, never cached under the live token). Everything below only reads:

1. Regions (``whatif.compare_regions``): exposure before and after — the (law, channel) pairs that newly reach
   each region with their explanation chain —, certificates that lapse, the SecNumCloud ownership test.
2. Resources: compliance's equivalence classes (region, tenant, tags, ``souverain:*`` labels; see
   ``policy/compliance.py``), never a Python loop over rows. One aggregate query counts the resources per region
   (cheap: no label extraction); only the regions whose decisions can change — their profile, their cloud's
   dedication or the knowledge-base input changed — are broken down into classes with their counts by a second
   aggregate query (GROUP BY), and each of those classes is decided before and after; every other resource is
   unchanged. Every decision the answer needs is gathered first and resolved in bulk (``Decisions``): the
   engine's cache, then ONE read of the shared decision store (``policy/shared.py``, where the compliance job
   puts the decision of every inventory class after each pass, keyed like the cache: so the "before" side and
   the destinations in unchanged regions are reads), and only the rest — essentially the "after" side of the
   changed regions — is decided, by a few threads (rego-cpp runs without the GIL). The store is read, never
   written: a what-if writes nothing (its decisions stay in this process's cache, which the next what-if and
   placements of this process reuse). Totals by tenant, data class and rule come from the
   class counts; the affected resources themselves are listed (up to ``resource_limit``, most severe first) by
   one small query per class, each on its region's index, until the limit is reached.
3. Where the affected resources could go: the class's workload placed against the changed estate (allowed
   regions, best first), each with the capacity app's verdict (``souverain.capacity.services.fits``: fits /
   full / unknown, for the group's resource count).
   Groups whose workloads decide alike share one search; at most ``DESTINATION_SEARCHES`` searches are made,
   largest groups first (each decides a workload in every region), the rest is counted as not computed.
4. Saved workloads (``models.SavedWorkload``): placed before and after; the regions each loses or gains.

A tenant user's answer holds only the tenant's resources and saved workloads, and only the regions of the
clouds the tenant may see (public ones and its own private ones).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from souverain.estate import db_snapshot, estatefile
from souverain.estate.snapshot import EstateData, from_document
from souverain.policy import placement
from souverain.policy import services as policy_services
from souverain.policy.compliance import (
    _evaluated,  # the same SQL conditions and label extraction as compliance: the same classes
    _labels,
    _tenant_layers,
    big_statement_settings,
    foreign_private_cloud,
    severity_of,
    workload_of,
)
from souverain.policy.engine.cache import canonical_hash, key_of, workload_profile
from souverain.policy.shared import DatabaseDecisions
from souverain.policy.workloads import WorkloadError, merge, validate
from souverain.sovereignty.kb import KnowledgeBase
from souverain.sovereignty.services import current_knowledge_base

from . import changes as changes_module
from . import whatif
from .models import SavedWorkload

RESOURCE_LIMIT = 200
DESTINATIONS = 5
DESTINATION_SEARCHES = 12
#: Threads deciding a what-if's cold decisions at once (rego-cpp runs without the GIL through ctypes).
DECISION_THREADS = max(1, min(4, os.cpu_count() or 1))
#: Up to this many cold decisions are made on the caller's thread: cheaper than the pool's first use, whose
#: threads each build their interpreter (small estates, tests).
INLINE_DECISIONS = 32


@dataclass
class Question:
    """A checked what-if: the changes (or the alternative estate), its title and its date."""

    changes: changes_module.ChangeSet | None = None
    alternative: EstateData | None = None
    source: str = ""
    title: str = ""
    on: dt.date | None = None

    def after(self, estate: EstateData, kb: KnowledgeBase) -> tuple[EstateData, KnowledgeBase]:
        if self.alternative is not None:
            return self.alternative, kb
        assert self.changes is not None
        return changes_module.apply(self.changes, estate, kb)

    def describe(self) -> dict[str, Any]:
        if self.alternative is not None:
            return {"estate": self.source}
        assert self.changes is not None
        return {"changes": self.changes.as_dict()["changes"]}


def change_question(text: str, filename: str = "change.yaml", on: dt.date | None = None) -> Question:
    """A change file's text checked against the live estate (ChangeFileError with every problem)."""
    changes = changes_module.parse(text, db_snapshot.from_database(), current_knowledge_base(), filename)
    return Question(changes=changes, source=filename, title=changes.title, on=on or changes.on)


def change_question_from_data(doc: Any, on: dt.date | None = None) -> Question:
    """The same from plain data (the API's JSON body); problems name the field."""
    changes = changes_module.check(doc, db_snapshot.from_database(), current_knowledge_base())
    return Question(changes=changes, source="changes", title=changes.title, on=on or changes.on)


def estate_question(text: str, filename: str = "estate.yaml", on: dt.date | None = None) -> Question:
    """A whole alternative estate file (validated like ``estate validate``; EstateFileError if wrong)."""
    doc, where = estatefile.parse(text, filename)
    problems = estatefile.validate(doc, where, current_knowledge_base())
    if problems:
        raise estatefile.EstateFileError(problems)
    title = str((doc.get("meta") or {}).get("name") or filename)
    return Question(alternative=from_document(doc), source=filename, title=title, on=on)


# --- the answer -------------------------------------------------------------------------------------------------


def _labels_sql(alias: str) -> str:
    """Compliance's label extraction, for a statement with parameters (its LIKE pattern's % doubled), computed
    only for resources whose attributes name a ``souverain:`` key at all.

    The extraction (a ``jsonb_each`` per row) was half of the class query at 1 M resources; a LIKE on the
    attributes' text rules out most rows first. The value is the same either way: a document without the
    text ``"souverain:`` has no such key, and the extraction of those gives the empty object too."""
    postgres = connection.vendor == "postgresql"
    text = f"CAST({alias}.attrs AS text)" if postgres else f"{alias}.attrs"
    empty = "'{}'::jsonb" if postgres else "'{}'"
    return (f"CASE WHEN {text} LIKE '%%\"souverain:%%' THEN {_labels(alias).replace('%', '%%')}"
            f" ELSE {empty} END")


def _region_counts(tenant_id: int | None) -> dict[int, int]:
    """Evaluated resources per region: one aggregate query, without the labels (cheap on every row)."""
    where = _evaluated("r") + (" AND r.tenant_id = %s" if tenant_id is not None else "")
    with big_statement_settings(), connection.cursor() as cursor:
        cursor.execute(f"SELECT r.region_id, COUNT(*) FROM inventory_resource r WHERE {where} GROUP BY 1",
                       [tenant_id] if tenant_id is not None else [])
        return dict(cursor.fetchall())


def _class_counts(tenant_id: int | None, region_ids: list[int]) -> list[tuple[int, int | None, str, str, int]]:
    """(region, tenant, tags, labels, resources) of every class of the given regions: one aggregate query."""
    if not region_ids:
        return []
    where = _evaluated("r") + " AND r.region_id IN (" + ", ".join(["%s"] * len(region_ids)) + ")"
    params: list[Any] = list(region_ids)
    if tenant_id is not None:
        where += " AND r.tenant_id = %s"
        params.append(tenant_id)
    with big_statement_settings(), connection.cursor() as cursor:
        cursor.execute(f"SELECT r.region_id, r.tenant_id, r.tags, {_labels_sql('r')}, COUNT(*)"
                       f" FROM inventory_resource r WHERE {where} GROUP BY 1, 2, 3, 4", params)
        return [(region, tenant, _text(tags), _text(labels), count)
                for region, tenant, tags, labels, count in cursor.fetchall()]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _resources_of(classes: list[tuple[int, int, int | None, str, str]], limit: int) -> list[tuple]:
    """Up to ``limit`` live resources of the given classes ((index, region, tenant, tags, labels)), in that order,
    with the index of their class: one small query per class until the limit is reached (each uses the region's
    index and reads only that region's rows; a join of every class at once made PostgreSQL compute the labels of
    the whole inventory before the LIMIT)."""
    postgres = connection.vendor == "postgresql"
    cast = "CAST(%s AS jsonb)" if postgres else "%s"
    rows: list[tuple] = []
    for index, region_id, tenant_id, tags, labels in classes:
        if len(rows) >= limit:
            break
        owner = "r.tenant_id IS NULL" if tenant_id is None else "r.tenant_id = %s"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT r.id, r.kind, r.name, r.external_id FROM inventory_resource r WHERE r.region_id = %s"
                f" AND {owner} AND r.tags = {cast} AND {_labels_sql('r')} = {cast} AND {_evaluated('r')}"
                " ORDER BY r.id LIMIT %s",
                [region_id, *([] if tenant_id is None else [tenant_id]), tags, labels, limit - len(rows)])
            rows.extend((index, *row) for row in cursor.fetchall())
    return rows


def _capacity_fits() -> Any:
    """The capacity app's ``fits(region_keys, size)`` (souverain/capacity/services.py), or None without it."""
    try:
        module = importlib.import_module("souverain.capacity.services")
    except ImportError:
        return None
    return getattr(module, "fits", None)


def _capacity(fits: Any, regions: list[str], resources: int) -> dict[str, str]:
    """Per region: would ``resources`` more servers fit in its free capacity as last measured — fits / full /
    unknown. Only the count is known here (a class's flavours are not summed), so "fits" means room for that
    many servers of the smallest size; "unknown" when capacity was never measured."""
    if fits is None or not regions:
        return {}
    verdicts = fits(regions, {"count": resources})
    return {key: str((verdict or {}).get("status") or "unknown") for key, verdict in verdicts.items()}


class _ReadOnlyStore:
    """The shared decision store (``policy/shared.py``), read and never written: a what-if writes nothing.
    Its rows are decisions of the live estate's contexts (placement's classes, decided again by each
    compliance pass), keyed like the engine's cache, so a key of the changed estate simply finds nothing."""

    def __init__(self) -> None:
        self.store = DatabaseDecisions()

    def get_many(self, keys: list[tuple[str, ...]]) -> dict[tuple[str, ...], Any]:
        return self.store.get_many(keys) if keys else {}

    def put_many(self, decisions: Any) -> None:
        """Nothing: the decisions stay in this process's cache."""


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _decision_pool() -> ThreadPoolExecutor:
    """Threads kept for the process's life: each builds its Rego interpreter once (~0.6 s), not per answer."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(DECISION_THREADS, thread_name_prefix="whatif-decide")
        return _pool


class Decisions:
    """Every decision an answer needs, gathered first and resolved in bulk, before the answer reads them.

    Each is looked up by the engine's key (``placement.decide_all``'s: policy set, date, workload profile,
    region profile hash, knowledge-base hash) in the engine's cache, then in the shared store (one query for
    all of a batch), and only the rest is decided — by ``DECISION_THREADS`` threads, each with its own
    interpreter — and put in the engine's cache. The answer then calls ``decide_all`` as before: every call is
    a cache hit. A decision with errors (an operator's pack failing) is not cached; ``decide_all`` decides it
    again when it is read, as everywhere else."""

    def __init__(self, engine: Any, on: dt.date) -> None:
        self.engine, self.on = engine, on
        self.store = _ReadOnlyStore()
        self.counts = {"made": 0, "from_store": 0, "from_cache": 0}
        self._running: list[Future] = []

    def key(self, workload: dict[str, Any], case: placement.RegionCase, context: placement.Context
            ) -> tuple[str, ...]:
        workload_hash = canonical_hash(workload_profile(workload, include_tenant=self.engine.reads_tenant))
        return key_of(self.engine.policy_set.version, self.on.isoformat(), workload_hash, case.profile_hash,
                      context.kb_hash)

    def start(self, tasks: Iterable[tuple[dict[str, Any], placement.RegionCase, placement.Context]]) -> None:
        """Resolve these (workload, region, context) decisions in the background; ``wait`` for them."""
        pending: dict[tuple[str, ...], tuple[dict[str, Any], placement.RegionCase, placement.Context]] = {}
        for workload, case, context in tasks:
            key = self.key(workload, case, context)
            if key in pending:
                continue
            if self.engine.cache.get(key) is not None:
                self.counts["from_cache"] += 1
                continue
            pending[key] = (workload, case, context)
        for key, decision in self.store.get_many(list(pending)).items():
            self.engine.cache.put(key, decision)
            self.counts["from_store"] += 1
            del pending[key]
        self.counts["made"] += len(pending)
        if not pending:
            return
        engine, on = self.engine, self.on

        def decide(item: tuple[tuple[str, ...], tuple[dict[str, Any], placement.RegionCase, placement.Context]]
                   ) -> None:
            key, (workload, case, context) = item
            decision = engine.decide(placement.policy_input(workload, case.profile, context.kb_input, on))
            if not getattr(decision, "errors", None):
                engine.cache.put(key, decision)

        if len(pending) <= INLINE_DECISIONS:  # not worth a thread building its interpreter
            for item in pending.items():
                decide(item)
            return
        pool = _decision_pool()
        self._running += [pool.submit(decide, item) for item in pending.items()]

    def wait(self) -> None:
        running, self._running = self._running, []
        for future in running:
            future.result()

    def resolve(self, tasks: Iterable[tuple[dict[str, Any], placement.RegionCase, placement.Context]]) -> None:
        self.start(tasks)
        self.wait()


def _decide(workload: dict[str, Any], case: placement.RegionCase, context: placement.Context, on: dt.date,
            engine: Any) -> list[dict[str, Any]]:
    [(_, deny, _warn)] = placement.decide_all(workload, [case], context, on, engine)
    return [*deny, *foreign_private_cloud(case, workload.get("tenant"))]


class FitError(ValueError):
    """The "would it fit?" question names a tenant the reader may not ask about (or none that exists)."""


def fit_tenant_of(slug: str, user: Any = None) -> Any:
    """The tenant a "would it fit?" question names: any for operators and the CLI (``user`` None), for a tenant
    user only their node or a node below it (the organisation tree); FitError otherwise, the same for a tenant
    that exists elsewhere as for none, so that the answer does not reveal other tenants."""
    from souverain.tenancy.models import Tenant
    from souverain.tenancy.permissions import membership_of
    from souverain.tenancy.services import subtree_ids

    tenant = Tenant.objects.filter(slug=slug).first()
    membership = membership_of(user) if user is not None else None
    if tenant is not None and membership is not None and membership.is_tenant_scoped \
            and tenant.pk not in subtree_ids(membership.tenant_id):
        tenant = None
    if tenant is None:
        raise FitError(_("no tenant '%(slug)s' that you may ask about") % {"slug": slug})
    return tenant


def tenant_fit(tenant: Any, region_keys: list[str]) -> dict[str, Any]:
    """Issue 15's question, asked with a what-if: if this tenant (its node and the nodes below it) moved to each
    of these regions, would its servers fit? ``capacity.services.would_fit`` by the servers' inventoried sizes
    against each region's free capacity as last measured (a what-if does not change capacity); "unknown" where
    capacity was never measured or the capacity app is absent."""
    try:
        module = importlib.import_module("souverain.capacity.services")
    except ImportError:
        return {"tenant": tenant.slug, "regions": {key: {"status": "unknown"} for key in region_keys}}
    verdicts = module.would_fit(region_keys, tenant=tenant)
    return {"tenant": tenant.slug, "regions": {
        key: {k: v for k, v in verdict.items() if k in ("status", "message", "message_fr", "servers", "missing")}
        for key, verdict in verdicts.items()}}


def answer(question: Question, *, user: Any = None, on: dt.date | None = None,
           resource_limit: int = RESOURCE_LIMIT, fit_tenant: Any = None) -> dict[str, Any]:
    """The whole answer as JSON-ready data (docs/what-if.md). ``user``: whose answer (a tenant user's holds only
    their tenant's resources and workloads, and the clouds they may see); None: everything (CLI, operator).
    ``fit_tenant`` (a Tenant, checked by ``fit_tenant_of``): also answer "would its servers fit" in each region
    the changed estate keeps."""
    from souverain.estate.models import Region
    from souverain.tenancy.models import Tenant
    from souverain.tenancy.permissions import membership_of, sees_dedicated

    started = time.perf_counter()
    on = on or question.on or timezone.localdate()
    membership = membership_of(user) if user is not None else None
    tenant = membership.tenant if membership is not None and membership.is_tenant_scoped else None
    kb = current_knowledge_base()
    live = db_snapshot.from_database()
    after_estate, after_kb = question.after(live, kb)
    before = policy_services.current_context(on)
    after = placement.build_context(after_estate, after_kb, on)  # no token: never cached as the live context
    engine = policy_services.current_engine()
    decisions = Decisions(engine, on)

    def visible(case: placement.RegionCase) -> bool:
        return user is None or sees_dedicated(user, case.dedicated_to)

    regions = whatif.compare_regions(before, after, visible)
    timings = {"regions": time.perf_counter() - started}
    # The saved workloads need no class: their decisions are made by the threads while the database counts.
    saved_workloads = _saved_workloads(tenant, before, after, visible, decisions)

    # --- resources, by equivalence class -------------------------------------------------------------------
    region_keys = {pk: f"{cloud}/{slug}" for pk, cloud, slug in Region.objects.values_list("pk", "cloud__slug", "slug")}
    slugs = dict(Tenant.objects.values_list("pk", "slug"))
    layers = _tenant_layers()
    old_cases = {case.key: case for case in before.cases}
    new_cases = {case.key: case for case in after.cases}
    kb_same = before.kb_hash == after.kb_hash
    tick = time.perf_counter()
    per_region = _region_counts(tenant.pk if tenant is not None else None)
    totals = {"evaluated": sum(per_region.values()), "classes": 0, "decided_classes": 0, "newly_non_compliant": 0,
              "newly_compliant": 0, "still_non_compliant": 0, "unchanged": 0, "region_removed": 0}
    # Only the regions whose decisions can change are broken down into classes: the others are unchanged.
    changed_regions = []
    for region_id, count in per_region.items():
        old, new = old_cases.get(region_keys.get(region_id, "")), new_cases.get(region_keys.get(region_id, ""))
        if old is None:
            totals["unchanged"] += count
        elif new is None:
            totals["region_removed"] += count
        elif kb_same and old.profile_hash == new.profile_hash and old.dedicated_to == new.dedicated_to:
            totals["unchanged"] += count
        else:
            changed_regions.append(region_id)
    classes = _class_counts(tenant.pk if tenant is not None else None, sorted(changed_regions))
    totals["classes"] = len(classes)
    timings["classes_query"] = time.perf_counter() - tick
    by_tenant: dict[str, int] = defaultdict(int)
    by_class: dict[str, int] = defaultdict(int)
    by_rule: dict[str, dict[str, Any]] = {}
    groups: list[dict[str, Any]] = []
    affected_keys: list[tuple[int, int, int | None, str, str]] = []
    tick = time.perf_counter()
    workloads = [workload_of(layers.get(tenant_id, {}), json.loads(tags), json.loads(labels))
                 for _, tenant_id, tags, labels, _ in classes]
    decisions.resolve(task for (region_id, *_), workload in zip(classes, workloads, strict=True)
                      for task in ((workload, old_cases[region_keys[region_id]], before),
                                   (workload, new_cases[region_keys[region_id]], after)))
    for (region_id, tenant_id, tags, labels, count), workload in zip(classes, workloads, strict=True):
        key = region_keys.get(region_id, "")
        old, new = old_cases[key], new_cases[key]
        totals["decided_classes"] += 1
        diff = whatif.compare_rules(whatif.rules_of(_decide(workload, old, before, on, engine), severity_of),
                                    whatif.rules_of(_decide(workload, new, after, on, engine), severity_of))
        if diff["new"]:
            totals["newly_non_compliant"] += count
        elif diff["resolved"]:
            totals["newly_compliant"] += count
        elif diff["kept"]:
            totals["still_non_compliant"] += count
        else:
            totals["unchanged"] += count
        if not (diff["new"] or diff["resolved"]):
            continue
        tenant_slug = slugs.get(tenant_id) if tenant_id is not None else None
        if diff["new"]:
            by_tenant[tenant_slug or ""] += count
            for data_class in workload.get("data_classes") or ["(none)"]:
                by_class[data_class] += count
            for rule in diff["new"]:
                entry = by_rule.setdefault(rule["rule"], {"rule": rule["rule"], "severity": rule["severity"],
                                                          "resources": 0})
                entry["resources"] += count
        groups.append({"index": len(groups), "region": key, "tenant": tenant_slug, "resources": count,
                       "data_classes": list(workload.get("data_classes") or []),
                       "tags": json.loads(tags), "labels": json.loads(labels), **diff, "_workload": workload})
        affected_keys.append((len(affected_keys), region_id, tenant_id, tags, labels))
    timings["decisions"] = time.perf_counter() - tick

    # --- where the newly non-compliant could go -------------------------------------------------------------
    tick = time.perf_counter()
    fits = _capacity_fits()
    destinations: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    skipped = 0
    # Largest groups first; groups whose workloads decide alike (same profile for the rules, same visible
    # regions) share one search, and at most DESTINATION_SEARCHES searches are made (each decides the workload
    # in every region: the costly part of a cold answer). The others say "not computed" (could_go None).
    # The searches are chosen first and all their decisions resolved at once (cache, shared store, threads).
    searches: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Any], list[placement.RegionCase]]] = {}
    ordered = sorted(groups, key=lambda g: -g["resources"])
    for group in ordered:
        workload = group["_workload"]
        if not group["new"]:
            continue
        cases = placement.visible_cases([case for case in after.cases if visible(case)], workload.get("tenant"))
        key = (canonical_hash(workload_profile(workload, include_tenant=engine.reads_tenant)),
               tuple(case.key for case in cases))
        group["_search"] = key
        if key not in searches and len(searches) < DESTINATION_SEARCHES:
            searches[key] = (workload, cases)
    decisions.resolve((workload, case, after) for workload, cases in searches.values() for case in cases)
    for group in ordered:
        workload = group.pop("_workload")
        key = group.pop("_search", None)
        if not group["new"]:
            group["could_go"] = []
            continue
        if key not in searches:
            group["could_go"] = None
            skipped += group["resources"]
            continue
        if key not in destinations:
            ranked = placement.rank(workload, placement.decide_all(workload, searches[key][1], after, on, engine))
            destinations[key] = [{"region": a["region"], "score": a["score"]} for a in ranked["allowed"]]
        could_go = [d for d in destinations[key] if d["region"] != group["region"]][:DESTINATIONS]
        capacity = _capacity(fits, [d["region"] for d in could_go], group["resources"])
        group["could_go"] = [{**d, "capacity": capacity.get(d["region"], "unknown")} for d in could_go]
    totals["destinations_not_computed"] = skipped
    timings["destinations"] = time.perf_counter() - tick

    # --- the affected resources themselves ------------------------------------------------------------------
    tick = time.perf_counter()
    listed = []
    severity_rank = {s: i for i, s in enumerate(reversed(whatif.SEVERITIES))}

    def most_severe_first(group: dict[str, Any]) -> tuple:
        return (min((severity_rank[r["severity"]] for r in group["new"]), default=9), -group["resources"],
                group["region"], group["tenant"] or "")

    wanted = sorted((k for k in affected_keys if groups[k[0]]["new"]), key=lambda k: most_severe_first(groups[k[0]]))
    for index, resource_id, kind, name, external_id in _resources_of(wanted, resource_limit):
        group = groups[index]
        listed.append({"id": resource_id, "kind": kind, "name": name, "external_id": external_id,
                       "region": group["region"], "tenant": group["tenant"],
                       "rules": [{"rule": r["rule"], "severity": r["severity"]} for r in group["new"]]})
    timings["listing"] = time.perf_counter() - tick

    # --- saved workloads ------------------------------------------------------------------------------------
    tick = time.perf_counter()
    saved = saved_workloads(on, engine)
    timings["saved_workloads"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started

    groups.sort(key=most_severe_first)
    for group in groups:
        group.pop("index", None)
    return {
        "title": question.title,
        "date": on.isoformat(),
        **question.describe(),
        "scope": {"tenant": tenant.slug if tenant is not None else None},
        "policy_version": engine.policy_set.version,
        "regions": regions,
        "resources": {
            **totals,
            "by_tenant": [{"tenant": t or None, "resources": n} for t, n in sorted(by_tenant.items())],
            "by_data_class": [{"data_class": c, "resources": n} for c, n in sorted(by_class.items())],
            "by_rule": sorted(by_rule.values(), key=lambda r: (severity_rank[r["severity"]], r["rule"])),
            "groups": groups,
            "list": listed,
            "listed": len(listed),
            "truncated": len(listed) < totals["newly_non_compliant"],
        },
        "saved_workloads": saved,
        "capacity": "measured" if fits is not None else "not available",
        **({"fit": tenant_fit(fit_tenant, [r["region"] for r in regions if r["status"] != "removed"])}
           if fit_tenant is not None else {}),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        # Decisions this answer made, read from the shared store, and found in the process's decision cache.
        "decisions": dict(decisions.counts),
    }


def _saved_workloads(tenant: Any, before: placement.Context, after: placement.Context, visible: Any,
                     decisions: Decisions) -> Any:
    """Read and check the saved workloads the reader may see, start their decisions (before and after, every
    visible region) in the background, and return the function that builds their part of the answer."""
    queryset = SavedWorkload.objects.select_related("tenant")
    if tenant is not None:
        queryset = queryset.filter(tenant=tenant)
    known_laws = [law["id"] for law in before.kb_input.get("laws", [])]
    packs = list(decisions.engine.packs_config.get("packs") or {})
    out: list[dict[str, Any]] = []
    placed: list[tuple[dict[str, Any], dict[str, Any], list[list[placement.RegionCase]]]] = []
    for saved in queryset:
        raw = {**saved.descriptor, **({"tenant": saved.tenant.slug} if saved.tenant_id else {})}
        entry: dict[str, Any] = {"id": saved.pk, "name": saved.name, "tenant": saved.tenant.slug if saved.tenant_id
                                 else None}
        try:
            validate(raw, known_laws=known_laws, known_packs=packs)
            workload = merge(policy_services.workload_layers(raw))
        except WorkloadError as exc:
            out.append({**entry, "error": "; ".join(exc.problems)})
            continue
        sides = [placement.visible_cases([c for c in context.cases if visible(c)], workload.get("tenant"))
                 for context in (before, after)]
        out.append(entry)
        placed.append((entry, workload, sides))
    decisions.start((workload, case, context) for _, workload, sides in placed
                    for context, cases in zip((before, after), sides, strict=True) for case in cases)

    def finish(on: dt.date, engine: Any) -> list[dict[str, Any]]:
        decisions.wait()
        for entry, workload, sides in placed:
            answers = [placement.rank(workload, placement.decide_all(workload, cases, context, on, engine))
                       for context, cases in zip((before, after), sides, strict=True)]
            entry.update(whatif.placement_flips(*answers))
        return out

    return finish


# --- saved workloads (the placement simulator's "Save this workload") --------------------------------------------


class SaveError(ValueError):
    """A workload that cannot be saved: every problem, each a sentence in the user's language."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def visible_saved_workloads(user: Any) -> Any:
    """The saved workloads a user may see: a tenant user's tenant's (and the nodes below it), all for operators."""
    from souverain.tenancy.permissions import Access, scope_queryset

    return scope_queryset(SavedWorkload.objects.select_related("tenant"), user, Access(tenant_lookup="tenant"))


def save_workload(user: Any, name: str, workload: dict[str, Any]) -> SavedWorkload:
    """Keep a placement simulator's workload for what-ifs, as the API does (``/api/saved-workloads/``): a tenant
    user's is always their own tenant's; an operator's is the workload's tenant's, or the operator's own (no
    tenant). The descriptor is validated like the API's; SaveError lists the problems."""
    from souverain.tenancy.models import Tenant
    from souverain.tenancy.permissions import tenant_of

    name = (name or "").strip()
    problems = []
    if not name:
        problems.append(_("Give the workload a name."))
    elif len(name) > 120:
        problems.append(_("A name has at most 120 characters."))
    own = tenant_of(user)
    slug = workload.get("tenant")
    if own is not None:
        tenant = own
    else:
        tenant = Tenant.objects.filter(slug=slug).first() if slug else None
        if slug and tenant is None:
            problems.append(_("Unknown tenant: %(tenant)s.") % {"tenant": slug})
    descriptor = {key: value for key, value in workload.items() if key != "tenant"}
    descriptor["name"] = name
    engine = policy_services.current_engine()
    try:
        validate(descriptor, known_laws=policy_services.known_law_ids(),
                 known_packs=list(engine.packs_config.get("packs") or {}))
    except WorkloadError as exc:
        problems.extend(exc.problems)
    if name and SavedWorkload.objects.filter(tenant=tenant, name=name).exists():
        problems.append(_("A saved workload of this tenant already has this name."))
    if problems:
        raise SaveError(problems)
    return SavedWorkload.objects.create(tenant=tenant, name=name, descriptor=descriptor, created_by=user)
