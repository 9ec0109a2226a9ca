"""The inventory sync engine, and the few other things the inventory does.

A sync job covers some clouds (all by default), full or incremental. Its clouds run in parallel threads;
each takes its cloud's lock (``jobs.locks``: Redis in scale mode, a lease row otherwise) so two workers
never sync the same cloud at once, then syncs its regions, each region's kinds in parallel threads.

One kind of one region is listed page by page through the connector's generic ``iter_pages``; the next
page downloads while the previous one is written (``_prefetch``). Each page costs a fixed handful of
queries, whatever its size: one to read the stored hashes of its objects, one for the previous attributes
of those that changed, then bulk inserts, bulk updates, one UPDATE for the unchanged, and the history rows
in bulk - all in one transaction. An object is rewritten only when the hash of its JSON changed.

An unchanged object costs no write at all: it was seen when its kind's listing succeeded, which
``SyncState.last_success`` records once for all of them (the API shows a resource's ``last_seen`` from
it). Rewriting a million ``last_seen`` columns at every sync would cost more than the listing, and would
keep PostgreSQL from answering counts from its indexes alone.

A complete listing (full sync, or a kind without a time filter) ends by marking ``gone`` what it did not
see: the ids it returned are kept (a set of strings), and the present ones of that region and kind not
among them have vanished.

Failures stay local: a kind whose listing fails is marked stale with the error in its ``SyncState``; what
was already written stays, nothing is marked gone, the other kinds and clouds go on. When a cloud cannot
be reached at all, all its kinds are marked stale. The job ends ``partial`` then, ``failed`` only when no
part succeeded.

After the job, ``signals.inventory_changed`` is sent with the ids of every resource created, changed,
gone or reappeared, for compliance to re-evaluate them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from souverain.connectors import Connector, ConnectorError, NotSupported, get_connector
from souverain.connectors.kinds import DETAIL_KEYS, Normalised, check_normalised
from souverain.connectors.registry import provider_class
from souverain.estate.models import Cloud, Region
from souverain.jobs import db, locks
from souverain.jobs import services as jobs
from souverain.jobs.models import Job

from . import bulk, credentials
from . import kinds as K
from .models import ProjectMapping, Resource, ResourceChange, SyncState
from .natural import natural_key
from .signals import inventory_changed

log = logging.getLogger(__name__)

T = TypeVar("T")

JOB_KIND = "inventory.sync"
#: An incremental listing asks for changes since the previous listing started, minus this margin for the
#: clocks of Souverain and of the cloud's database not quite agreeing. Re-listed unchanged objects cost a
#: hash comparison each and no write.
SINCE_MARGIN = timedelta(seconds=60)
_VALUES = ["project_id", "tenant_id", "name", "name_sort", "status", "attrs", "normalised", "attrs_hash", "tags"]
INSERT_COLUMNS = ["kind", "cloud_id", "region_id", "external_id", *_VALUES, "managed", "first_seen", "last_seen",
                  "gone_at", "last_sync_id"]
UPDATE_COLUMNS = [*_VALUES, "managed", "last_seen", "gone_at", "last_sync_id"]
CHANGE_COLUMNS = ["resource_id", "job_id", "time", "action", "changes"]

ConnectorFactory = Callable[[Cloud, Region], Connector]


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# --- which clouds, and how to reach them -------------------------------------------------------------------


def connector_for(cloud: Cloud, region: Region) -> Connector:
    """A connector for one region: the cloud's stored credentials, else its clouds.yaml entry."""
    credentials = cloud.get_credentials() if cloud.credentials_encrypted else {}
    if credentials:
        if cloud.kind != "openstack" and cloud.endpoint:  # other providers find their API at the estate's endpoint
            credentials = {"endpoint": cloud.endpoint, **credentials}
        return get_connector(cloud.kind, config=credentials, name=cloud.slug, region=region.slug)
    if cloud.clouds_yaml_entry:
        return get_connector(cloud.kind, cloud=cloud.clouds_yaml_entry, region=region.slug)
    raise ConnectorError("the cloud has neither credentials nor a clouds.yaml entry", cloud=cloud.slug,
                         region=region.slug)


#: A worker keeps each region's connector (its token, catalog and negotiated versions) this long, so that
#: periodic incremental syncs do not pay authentication and version discovery each time.
CONNECTOR_TTL = 1800.0
_connectors: dict[tuple[Any, ...], tuple[float, Connector]] = {}
_connectors_lock = threading.Lock()


def cached_connector(cloud: Cloud, region: Region) -> Connector:
    """``connector_for``, reused while the cloud's row is unchanged (any edit, credentials included, makes a new
    one). Two syncs of one cloud never share it at the same time: the per-cloud lock serialises them."""
    key = (cloud.pk, cloud.created, cloud.last_updated, region.pk, region.slug)
    with _connectors_lock:
        hit = _connectors.get(key)
        if hit is not None and time.monotonic() - hit[0] < CONNECTOR_TTL:
            return hit[1]
    connector = connector_for(cloud, region)
    with _connectors_lock:
        _connectors[key] = (time.monotonic(), connector)
    return connector


def forget_connector(cloud: Cloud, region: Region) -> None:
    with _connectors_lock:
        for key in [k for k in _connectors if k[0] == cloud.pk and k[3] == region.pk]:
            del _connectors[key]


def syncable_clouds() -> list[Cloud]:
    """Clouds with a connector for their kind, credentials this process can find (``credentials.locate``: a
    clouds.yaml entry named but absent here is "not configured"), and at least one region."""
    clouds = [c for c in Cloud.objects.prefetch_related("regions").order_by("slug") if c.regions.all()]
    located = credentials.locate_all(clouds)
    return [c for c in clouds if located[c.pk].configured]


def validate_sync_params(params: dict[str, Any]) -> dict[str, Any]:
    """``{"clouds": [slug...] (empty: all syncable), "full": bool, "kinds": [kind...] (empty: all)}``."""
    unknown = set(params) - {"clouds", "full", "kinds"}
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    clouds = params.get("clouds") or []
    if isinstance(clouds, str):
        clouds = [clouds]
    if not isinstance(clouds, list) or not all(isinstance(c, str) for c in clouds):
        raise ValueError("clouds must be a list of cloud slugs")
    known = set(Cloud.objects.filter(slug__in=clouds).values_list("slug", flat=True))
    if set(clouds) - known:
        raise ValueError(f"unknown cloud(s): {', '.join(sorted(set(clouds) - known))}")
    names = params.get("kinds") or []
    if not isinstance(names, list):
        raise ValueError("kinds must be a list")
    kinds = [K.kind(str(name)).name for name in names]
    full = params.get("full", False)
    if not isinstance(full, bool):
        raise ValueError("full must be true or false")
    return {"clouds": sorted(set(clouds)), "full": full, "kinds": kinds}


def request_sync(clouds: Iterable[str] = (), *, full: bool = False, kinds: Iterable[str] = (),
                 requested_by: str = "") -> Job:
    """Queue a sync job (the API, the CLI and the schedule all come here)."""
    return jobs.submit(JOB_KIND, {"clouds": list(clouds), "full": full, "kinds": list(kinds)},
                       requested_by=requested_by)


def schedule_syncs(full: bool) -> list[Job]:
    """The periodic sync: one job per cloud in scale mode (so clouds spread over the workers), one job for
    all clouds in the embedded default (whose single worker runs them in parallel threads). Skips a cloud
    that already has a sync of the same sort waiting, so a slow cloud does not pile up jobs, and a cloud whose
    credentials this process cannot find (``credentials``): it is shown "not configured" on the sync page rather
    than failing, and logged as failing, at every tick."""
    recovered = jobs.recover_interrupted()  # in scale mode nothing else notices a job whose worker died
    if recovered:
        log.warning("marked %d interrupted job(s) failed", recovered)
    slugs = [c.slug for c in syncable_clouds()]
    if not slugs:
        return []
    waiting = Job.objects.filter(kind=JOB_KIND, status=Job.Status.QUEUED, params__full=full)
    busy = {slug for params in waiting.values_list("params", flat=True) for slug in (params.get("clouds") or slugs)}
    todo = [s for s in slugs if s not in busy]
    if not todo:
        return []
    groups = [[s] for s in todo] if jobs.celery_enabled() else [todo]
    return [request_sync(group, full=full, requested_by="schedule") for group in groups]


# --- the engine ----------------------------------------------------------------------------------------------


def digest(item: dict[str, Any], normalised: dict[str, Any] | None = None) -> str:
    """The hash of a document and of the normalised attributes stored beside it: a change of either rewrites."""
    data = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    if normalised:
        data += json.dumps(normalised, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.blake2b(data.encode(), digest_size=16).hexdigest()


def attribute_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The top-level keys whose value changed, with their value before and after."""
    return {key: {"before": before.get(key), "after": after.get(key)}
            for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)}


@dataclass
class _Region:
    """What the threads syncing one region's kinds share."""

    cloud: Cloud
    region: Region
    connector: Connector
    tenants: dict[str, int]  # cloud project id -> tenant id
    key: str
    kind_states: dict[str, str] = field(default_factory=dict)
    stats: Counter[str] = field(default_factory=Counter)
    seen: int = 0  # objects listed so far, all kinds: the progress bar's live figure


class SyncRun:
    """One sync job's work. ``threads`` caps the clouds synced at once and the kinds of a region listed at
    once; 1 runs everything in the calling thread (what unit tests use)."""

    def __init__(
        self,
        *,
        job_id: int | None,
        reporter: jobs.Reporter | None,
        full: bool,
        kinds: list[str] | None = None,
        connector_factory: ConnectorFactory | None = None,
        cloud_threads: int | None = None,
        kind_threads: int | None = None,
    ) -> None:
        self.job_id = job_id
        self.reporter = reporter
        self.full = full
        self._asked = list(kinds or [])
        names = kinds or [k.name for k in K.KINDS]
        # The registry's start order: the longest listings first, so they overlap the short ones.
        self.kinds = sorted({K.kind(n) for n in names}, key=lambda k: (k.start, k.name))
        self.factory = connector_factory or cached_connector
        self.cloud_threads = cloud_threads or int(_setting("SOUVERAIN_SYNC_CLOUD_THREADS", 8))
        self.kind_threads = kind_threads or int(_setting("SOUVERAIN_SYNC_KIND_THREADS", 4))
        self.lock_wait = float(_setting("SOUVERAIN_SYNC_LOCK_WAIT", 1800))
        self.changed: list[int] = []
        self.totals: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.units_total = 0
        self._units_done = 0

    # -- orchestration -------------------------------------------------------------------------------------

    def run(self, clouds: list[Cloud]) -> None:
        if not self._asked:
            # A provider registers its own kinds when its package is imported: import the clouds' providers first,
            # so that a fresh process syncs those kinds too.
            for cloud in clouds:
                try:
                    provider_class(cloud.kind)
                except (ImportError, ValueError):
                    continue  # reported when the cloud's connector is built
            self.kinds = sorted(K.KINDS, key=lambda k: (k.start, k.name))
        regions = {c.pk: list(c.regions.order_by("slug")) for c in clouds}
        self.units_total = sum(len(r) for r in regions.values()) * len(self.kinds) or 1
        # Which credentials this process uses, recorded with each part: a sync run elsewhere (the CLI, another
        # worker) may read another clouds.yaml, and the job says which one.
        located = credentials.locate_all(clouds) if self.reporter else {}
        for cloud in clouds:
            source = located[cloud.pk].detail if cloud.pk in located else ""
            for region in regions[cloud.pk]:
                self._part(f"{cloud.slug}/{region.slug}", state="queued", done=0, total=len(self.kinds), kinds={},
                           credentials=source)
        work = [(cloud, regions[cloud.pk]) for cloud in clouds]
        _run_all(self._sync_cloud, work, self.cloud_threads)
        if self.changed:
            self._notify()

    def _sync_cloud(self, cloud: Cloud, regions: list[Region]) -> None:
        keys = [f"{cloud.slug}/{r.slug}" for r in regions]
        for key in keys:
            self._part(key, state="waiting for lock")
        try:
            with locks.held(f"souverain:inventory:cloud:{cloud.slug}", wait=self.lock_wait) as held:
                for key in keys:
                    self._part(key, lock=held.backend, lock_waited=round(held.waited, 3), worker=jobs.worker_name())
                for region, key in zip(regions, keys, strict=True):
                    self._part(key, started_at=time.time())
                    self._sync_region(cloud, region, key)
                    # Recorded inside the lock: the [started_at, finished_at] spans of one cloud never overlap.
                    self._part(key, finished_at=time.time())
        except locks.LockTimeout as exc:
            for region, key in zip(regions, keys, strict=True):
                self._region_failed(cloud, region, key, exc)

    def _sync_region(self, cloud: Cloud, region: Region, key: str) -> None:
        self._part(key, state="connecting")
        try:
            with db.turn():
                tenants = dict(ProjectMapping.objects.filter(cloud=cloud).values_list("project_id", "tenant_id"))
            connector = self.factory(cloud, region)
            # Authenticates and reads the catalog once, before the kinds' threads share the connection.
            supported = {info.listing: connector.supports(info.listing) for info in self.kinds}
        except Exception as exc:  # noqa: BLE001 - any failure to reach a cloud is that cloud's failure only
            forget_connector(cloud, region)  # start afresh next time
            self._region_failed(cloud, region, key, exc)
            return
        ctx = _Region(cloud, region, connector, tenants, key)
        states = self._states(cloud, region)
        self._part(key, state="syncing")
        todo = []
        for info in self.kinds:
            if supported[info.listing]:
                todo.append(info)
            else:
                self._save_state(states[info.name], status=SyncState.Status.UNSUPPORTED, error="",
                                 last_attempt=timezone.now())
                self._kind_done(ctx, info, "unsupported")
        # Quotas and usage are named after their project: list the projects first when both are asked for.
        first = [i for i in todo if i.name == "project"] if any(i.per_project for i in todo) else []
        for info in first:
            self._sync_kind(ctx, info, states[info.name])
        rest = [(i,) for i in todo if i not in first]
        _run_all(lambda info: self._sync_kind(ctx, info, states[info.name]), rest, self.kind_threads)
        failed = sum(1 for s in ctx.kind_states.values() if s == "stale")
        self._part(key, state="done" if not failed else "done with errors")

    def _region_failed(self, cloud: Cloud, region: Region, key: str, exc: BaseException) -> None:
        message = _describe(exc)
        log.warning("inventory sync of %s failed: %s", key, message)
        states = self._states(cloud, region)
        now = timezone.now()
        for info in self.kinds:
            self._save_state(states[info.name], status=SyncState.Status.STALE, error=message, last_attempt=now)
        with self._lock:
            self.totals["failed_kinds"] += len(self.kinds)
            self._units_done += len(self.kinds)
        self._part(key, state="failed", error=message, done=len(self.kinds),
                   kinds={info.name: "stale" for info in self.kinds})
        if self.reporter:
            self.reporter.error(message, cloud=cloud.slug, region=region.slug, kind=None)
            self.reporter.add(failed_kinds=len(self.kinds))
        self._progress()

    # -- one kind of one region ----------------------------------------------------------------------------

    def _sync_kind(self, ctx: _Region, info: K.KindInfo, state: SyncState) -> None:
        started = timezone.now()
        clock = time.monotonic()
        incremental = (not self.full and info.listing in getattr(ctx.connector, "incremental_kinds", ())
                       and state.time_filter is not False
                       and state.last_success is not None and state.last_full is not None)
        since = state.last_success - SINCE_MARGIN if incremental and state.last_success else None
        time_filter = None if self.full else state.time_filter
        stats: Counter[str] = Counter()
        self._kind_state(ctx, info, "running")
        try:
            names = self._project_names(ctx) if info.per_project else {}
            returned: set[str] = set()
            try:
                self._list(ctx, info, since, stats, names, returned)
            except ConnectorError as exc:
                if since is None or exc.status != 400 or stats["seen"]:
                    raise
                # The cloud refuses the "changed since" filter for this kind (HTTP 400 before any page): list it
                # whole instead, the complete listing also reconciling deletions, and do so until the next full.
                log.info("%s %s: the cloud refused the time filter (%s); listing it whole", ctx.key, info.name, exc)
                since, time_filter = None, False
                self._list(ctx, info, since, stats, names, returned)
            if since is None:  # a complete listing: what it did not return is gone
                self._mark_gone(ctx, info, returned, state.last_success, stats)
            elif time_filter is None:
                time_filter = True
        except NotSupported:
            self._save_state(state, status=SyncState.Status.UNSUPPORTED, error="", last_attempt=started)
            self._kind_done(ctx, info, "unsupported", stats)
            return
        except Exception as exc:  # noqa: BLE001 - one kind's failure must not fail the others
            message = _describe(exc)
            log.warning("inventory sync of %s %s failed: %s", ctx.key, info.name, message,
                        exc_info=not isinstance(exc, ConnectorError))
            self._save_state(state, status=SyncState.Status.STALE, error=message, last_attempt=started,
                             duration=time.monotonic() - clock)
            stats["failed_kinds"] += 1
            if self.reporter:
                self.reporter.error(message, cloud=ctx.cloud.slug, region=ctx.region.slug, kind=info.name)
            self._kind_done(ctx, info, "stale", stats)
            return
        with db.turn():
            count = Resource.objects.filter(cloud=ctx.cloud, region=ctx.region, kind=info.name,
                                            gone_at__isnull=True).count()
        self._save_state(state, status=SyncState.Status.OK, error="", last_attempt=started, last_success=started,
                         last_full=started if since is None else state.last_full, resource_count=count,
                         time_filter=time_filter, duration=time.monotonic() - clock)
        self._kind_done(ctx, info, "ok", stats)

    def _list(self, ctx: _Region, info: K.KindInfo, since: datetime | None, stats: Counter[str],
              names: dict[str, str], returned: set[str]) -> None:
        for page in _prefetch(ctx.connector.iter_pages(info.listing, changes_since=since)):
            returned.update(self._apply_page(ctx, info, page, stats, names))
            with self._lock:
                ctx.seen += len(page)
                seen = ctx.seen
            self._part(ctx.key, seen=seen)

    def _apply_page(self, ctx: _Region, info: K.KindInfo, page: list[dict[str, Any]], stats: Counter[str],
                    project_names: dict[str, str]) -> set[str]:
        """Write what is new or changed in one page; returns the ids it held."""
        # The connector's normalised form is all the sync reads of an object; the document is stored whole.
        normalise = _normaliser(ctx)
        stable = bool(getattr(ctx.connector if ctx.connector is not None else provider_class(ctx.cloud.kind),
                              "stable_order", False))
        items: dict[str, dict[str, Any]] = {}
        forms: dict[str, Normalised] = {}
        details: dict[str, dict[str, Any]] = {}  # the normalised attributes stored beside the columns
        for item in page:
            try:
                form = check_normalised(info.name, normalise(info.listing, item))
            except (KeyError, TypeError):
                stats["skipped"] += 1
                continue
            ext = str(form["id"])
            items[ext] = item if stable else K.canonical(item)
            forms[ext] = form
            details[ext] = {key: form[key] for key in DETAIL_KEYS if form.get(key) not in (None, "", [], {})}
        if not items:
            return set()
        stats["seen"] += len(items)
        scope = {"cloud": ctx.cloud, "region": ctx.region, "kind": info.name}
        with db.turn():
            known = {row[0]: row[1:] for row in Resource.objects.filter(external_id__in=list(items), **scope)
                     .values_list("external_id", "id", "attrs_hash", "gone_at", "managed")}
        hashes = {ext: digest(item, details[ext]) for ext, item in items.items()}
        deleted = {ext for ext in items if forms[ext].get("deleted")}
        rewrite = [row[0] for ext, row in known.items()
                   if (ext in deleted and row[2] is None) or (ext not in deleted and (row[1] != hashes[ext] or row[2]))]
        previous: dict[int, dict[str, Any]] = {}
        if rewrite:
            with db.turn():
                previous = dict(Resource.objects.filter(pk__in=rewrite).values_list("id", "attrs"))

        now = timezone.now()
        creates: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        history: list[tuple[str, str, dict[str, Any]]] = []  # (external id, action, changes)
        for ext, item in items.items():
            row = known.get(ext)
            if row is None and ext in deleted:
                stats["skipped"] += 1  # deleted before we ever saw it
                continue
            if row is not None and row[0] not in previous:
                if ext not in deleted:
                    stats["unchanged"] += 1
                continue
            form = forms[ext]
            project = str(form.get("project") or "")
            tags = sorted({str(t) for t in form.get("tags") or []})[:100]
            managed = bool(form.get("managed"))
            name = (project_names.get(project) or project)[:255] if info.per_project else \
                str(form.get("name") or "")[:255]
            status = "deleted" if ext in deleted else str(form.get("status") or "").lower()[:40]
            values = (project[:64], ctx.tenants.get(project), name, natural_key(name), status, item, details[ext],
                      hashes[ext], tags)
            gone_at = now if ext in deleted else None
            if row is None:
                creates.append((info.name, ctx.cloud.pk, ctx.region.pk, ext, *values, managed, now, now, gone_at,
                                self.job_id))
                history.append((ext, ResourceChange.Action.CREATED, {}))
                continue
            pk, _, was_gone, was_managed = row
            # Provisioning's managed mark is never taken back by a sync.
            updates.append((pk, *values, managed or was_managed, now, gone_at, self.job_id))
            action = (ResourceChange.Action.GONE if ext in deleted
                      else ResourceChange.Action.REAPPEARED if was_gone is not None else ResourceChange.Action.UPDATED)
            history.append((ext, action, attribute_changes(previous[pk], item)))

        with db.turn(), transaction.atomic():
            ids = {ext: row[0] for ext, row in known.items()}
            created = bulk.insert_rows(Resource, INSERT_COLUMNS, creates, returning=("external_id", "id"))
            ids.update(dict(created))
            bulk.update_rows(Resource, UPDATE_COLUMNS, updates)
            bulk.insert_rows(ResourceChange, CHANGE_COLUMNS,
                             [(ids[ext], self.job_id, now, action, changes) for ext, action, changes in history])
        for _, action, _ in history:
            stats[action] += 1
        with self._lock:
            self.changed.extend(ids[ext] for ext, _, _ in history)
        return set(items)

    def _mark_gone(self, ctx: _Region, info: K.KindInfo, returned: set[str], previous_listing: datetime | None,
                   stats: Counter[str]) -> None:
        with db.turn():
            present = Resource.objects.filter(cloud=ctx.cloud, region=ctx.region, kind=info.name,
                                              gone_at__isnull=True).values_list("id", "external_id")
            vanished = [pk for pk, ext in present.iterator(chunk_size=5000) if ext not in returned]
        now = timezone.now()
        # Last seen by the previous successful listing, which it was present in.
        last_seen = {"last_seen": previous_listing} if previous_listing else {}
        for chunk in _chunks(vanished, 2000):
            with db.turn(), transaction.atomic():
                Resource.objects.filter(pk__in=chunk).update(gone_at=now, last_sync_id=self.job_id, **last_seen)
                bulk.insert_rows(ResourceChange, CHANGE_COLUMNS,
                                 [(pk, self.job_id, now, ResourceChange.Action.GONE, {}) for pk in chunk])
        stats["gone"] += len(vanished)
        with self._lock:
            self.changed.extend(vanished)

    def _project_names(self, ctx: _Region) -> dict[str, str]:
        with db.turn():
            return dict(Resource.objects.filter(cloud=ctx.cloud, region=ctx.region, kind="project")
                        .values_list("external_id", "name"))

    # -- bookkeeping -------------------------------------------------------------------------------------------

    def _states(self, cloud: Cloud, region: Region) -> dict[str, SyncState]:
        with db.turn():
            states = {s.kind: s for s in SyncState.objects.filter(cloud=cloud, region=region)}
            missing = [SyncState(cloud=cloud, region=region, kind=info.name) for info in self.kinds
                       if info.name not in states]
            if missing:
                SyncState.objects.bulk_create(missing, ignore_conflicts=True)
                states = {s.kind: s for s in SyncState.objects.filter(cloud=cloud, region=region)}
        return states

    def _save_state(self, state: SyncState, **values: Any) -> None:
        values["last_job_id"] = self.job_id
        for name, value in values.items():
            setattr(state, name, value)
        with db.turn():
            SyncState.objects.filter(pk=state.pk).update(**values)

    def _kind_state(self, ctx: _Region, info: K.KindInfo, state: str) -> None:
        with self._lock:
            ctx.kind_states[info.name] = state
            kinds = dict(ctx.kind_states)
        self._part(ctx.key, kinds=kinds)

    def _kind_done(self, ctx: _Region, info: K.KindInfo, state: str, stats: Counter[str] | None = None) -> None:
        with self._lock:
            ctx.kind_states[info.name] = state
            self._units_done += 1
            if stats:
                ctx.stats.update(stats)
                self.totals.update(stats)
            done = sum(1 for s in ctx.kind_states.values() if s != "running")
            kinds = dict(ctx.kind_states)
            counts = dict(ctx.stats)
        self._part(ctx.key, kinds=kinds, done=done,
                   **{k: counts.get(k, 0) for k in ("created", "updated", "gone", "failed_kinds")})
        if self.reporter and stats:
            self.reporter.add(**stats)
        self._progress()

    def _part(self, key: str, **fields: Any) -> None:
        if self.reporter:
            self.reporter.part(key, **fields)

    def _progress(self) -> None:
        if self.reporter:
            with self._lock:
                fraction = self._units_done / self.units_total
            self.reporter.set_progress(fraction)

    def _notify(self) -> None:
        ids = sorted(set(self.changed))
        for receiver, result in inventory_changed.send_robust(sender=Resource, resource_ids=ids, job_id=self.job_id):
            if isinstance(result, Exception):
                log.error("inventory_changed receiver %r failed: %s", receiver, result, exc_info=result)


def run_sync(job: Job, reporter: jobs.Reporter, *, connector_factory: ConnectorFactory | None = None) -> SyncRun:
    """The ``inventory.sync`` job: sync the job's clouds, record the outcome in ``reporter``."""
    params = job.params or {}
    slugs = params.get("clouds") or []
    clouds = [c for c in syncable_clouds() if not slugs or c.slug in slugs]
    skipped = sorted(set(slugs) - {c.slug for c in clouds})
    named = {c.slug: c for c in Cloud.objects.filter(slug__in=skipped).prefetch_related("regions")}
    located = credentials.locate_all(list(named.values()))
    for slug in skipped:
        cloud = named.get(slug)
        source = located.get(cloud.pk) if cloud else None
        if source is not None and not source.configured:
            reporter.error(f"not configured: {source.detail}. {source.hint}".strip(), cloud=slug)
        else:
            reporter.error("not syncable: the cloud has no region" if cloud else "not syncable: no such cloud",
                           cloud=slug)
    run = SyncRun(job_id=job.pk, reporter=reporter, full=bool(params.get("full")), kinds=params.get("kinds") or None,
                  connector_factory=connector_factory)
    if not clouds and not slugs:
        reporter.set_progress(1.0, "no cloud to sync: none has a connector, credentials found by this process and"
                                   " a region (see the sync page)")
    run.run(clouds)
    attempted = run.units_total if clouds else 0
    if (skipped and not clouds) or (attempted and run.totals["failed_kinds"] >= attempted):
        reporter.outcome = Job.Status.FAILED
    return run


# --- reading --------------------------------------------------------------------------------------------------


def listing_times() -> dict[tuple[int, int, str], datetime]:
    """(cloud id, region id, kind) -> when its last successful listing started: when every resource of that
    part still present was last seen (unchanged resources are not rewritten, see the module's docstring)."""
    return {(c, r, k): t for c, r, k, t in SyncState.objects.filter(last_success__isnull=False)
            .values_list("cloud_id", "region_id", "kind", "last_success")}


def last_seen(resource: Resource, times: dict[tuple[int, int, str], datetime]) -> datetime:
    if resource.gone_at is not None:
        return resource.last_seen
    listed = times.get((resource.cloud_id, resource.region_id, resource.kind))
    return max(resource.last_seen, listed) if listed else resource.last_seen


# --- tenancy -------------------------------------------------------------------------------------------------


def apply_project_mappings(cloud_id: int) -> list[int]:
    """Give every resource of the cloud the tenant its project maps to now; returns the ids that changed."""
    mappings = dict(ProjectMapping.objects.filter(cloud_id=cloud_id).values_list("project_id", "tenant_id"))
    changed: list[int] = []
    with transaction.atomic():
        for project, tenant in mappings.items():
            rows = Resource.objects.filter(cloud_id=cloud_id, project_id=project).exclude(tenant_id=tenant)
            ids = list(rows.values_list("id", flat=True))
            for chunk in _chunks(ids, 2000):
                Resource.objects.filter(pk__in=chunk).update(tenant_id=tenant)
            changed += ids
        orphans = Resource.objects.filter(cloud_id=cloud_id, tenant__isnull=False).exclude(project_id__in=mappings)
        ids = list(orphans.values_list("id", flat=True))
        for chunk in _chunks(ids, 2000):
            Resource.objects.filter(pk__in=chunk).update(tenant_id=None)
        changed += ids
    return changed


# --- helpers -------------------------------------------------------------------------------------------------


def _normaliser(ctx: _Region) -> Callable[[str, dict[str, Any]], Normalised]:
    """The cloud's connector's ``normalise``; its provider's, when a page comes without a connection (provisioning
    records what it created through ``_apply_page``)."""
    if ctx.connector is not None:
        return ctx.connector.normalise
    return provider_class(ctx.cloud.kind).normalise


def _describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _run_all(fn: Callable[..., None], work: list[tuple[Any, ...]], threads: int) -> None:
    """Run ``fn(*args)`` for each args, in up to ``threads`` pool threads (inline when 1 or a single item)."""
    if threads <= 1 or len(work) <= 1:
        for args in work:
            fn(*args)
        return
    with ThreadPoolExecutor(max_workers=min(threads, len(work)), thread_name_prefix="inventory-sync") as pool:
        for future in [pool.submit(db.in_thread(fn), *args) for args in work]:
            future.result()


def _prefetch(pages: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``pages`` in a helper thread, ``depth`` pages ahead: the next page downloads while the
    caller writes the previous one. Errors of the listing are raised in the caller, in order."""
    buffer: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                buffer.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put(("page", page)):
                    return
            put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(("error", exc))

    thread = threading.Thread(target=produce, name="inventory-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            tag, value = buffer.get()
            if tag == "page":
                yield value
            elif tag == "end":
                return
            else:
                raise value
    finally:
        stop.set()
        thread.join(timeout=5)
