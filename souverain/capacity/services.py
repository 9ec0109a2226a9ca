"""Capacity sync and reading: each region's allocatable, used and free vCPU, RAM and disk, with history.

The ``capacity.sync`` job reads every region of its clouds (all syncable clouds by default) through the
connector's optional ``capacity()`` (OpenStack: Placement and Nova, ``connectors/openstack/capacity.py``) and
writes one ``CapacitySnapshot`` per region with its ``CapacityFigure`` rows (the region and each zone, per
resource class), in one transaction per region. Nothing is overwritten: the history is the snapshots. A region
whose cloud does not answer gets a failed snapshot carrying the error; one whose provider does not report
capacity an "unsupported" one; the other regions go on and the job ends partial.

When it runs: after every inventory sync job of a cloud (a receiver on the job row's completion queues a capacity
sync of the same clouds, unless one is already waiting), and on its own schedule (``schedule_syncs``, from
Celery beat or the in-process scheduler, ``SOUVERAIN_CAPACITY_INTERVAL``). Connectors are the inventory's cached
ones, so a capacity sync right after an inventory sync does not authenticate again.

Reading: ``latest_reports`` gives the newest measured report of regions (by ``cloud/region`` key), and
``fits(region_keys, size)`` the per-region verdict of ``fit.verdict`` - what placement ranks with. The what-if
question "if this tenant moved here, would it fit?" is ``would_fit(region_keys, tenant=...)`` (or
``resource_ids=``): the servers' real sizes from the inventory (flavour vCPU, RAM, root disk), those already in
a region needing no room there. A region never measured is "capacity unknown", never "full".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from souverain.connectors import ConnectorError, NotSupported
from souverain.estate.models import Cloud, Region
from souverain.inventory import services as inventory
from souverain.jobs import services as jobs
from souverain.jobs.models import Job

from . import fit
from .models import RESOURCE_CLASSES, CapacityFigure, CapacitySnapshot

log = logging.getLogger(__name__)

JOB_KIND = "capacity.sync"


def validate_sync_params(params: dict[str, Any]) -> dict[str, Any]:
    """``{"clouds": [slug...]}`` (empty: every syncable cloud)."""
    unknown = set(params) - {"clouds", "trigger"}
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    clouds = params.get("clouds") or []
    if isinstance(clouds, str):
        clouds = [clouds]
    if not isinstance(clouds, list) or not all(isinstance(c, str) and c for c in clouds):
        raise ValueError("clouds must be a list of cloud slugs")
    trigger = params.get("trigger") or "manual"
    if trigger not in ("manual", "schedule", "inventory"):
        raise ValueError("trigger must be one of inventory, manual, schedule")
    return {"clouds": sorted(set(clouds)), "trigger": trigger}


def request_sync(clouds: Iterable[str] = (), *, trigger: str = "manual", requested_by: str = "") -> Job:
    return jobs.submit(JOB_KIND, {"clouds": list(clouds), "trigger": trigger}, requested_by=requested_by or trigger)


def _waiting(slugs: Iterable[str]) -> bool:
    """Whether a queued capacity sync already covers these clouds (so triggers do not pile up jobs)."""
    wanted = set(slugs)
    for params in Job.objects.filter(kind=JOB_KIND, status=Job.Status.QUEUED).values_list("params", flat=True):
        covered = set(params.get("clouds") or [])
        if not covered or wanted <= covered:
            return True
    return False


def schedule_syncs() -> Job | None:
    """The periodic capacity sync of every syncable cloud (none queued when one is already waiting)."""
    if not inventory.syncable_clouds() or _waiting([]):
        return None
    return request_sync(trigger="schedule")


def after_inventory_sync(job: Job) -> Job | None:
    """Queue a capacity sync of the clouds an inventory sync job just finished (not when it failed entirely)."""
    if job.kind != inventory.JOB_KIND or job.status not in (Job.Status.SUCCEEDED, Job.Status.PARTIAL):
        return None
    # The clouds it reached, from its parts ("cloud/region"): a sync that reached none has nothing to measure.
    clouds = sorted({key.split("/", 1)[0] for key, part in (job.detail or {}).items()
                     if isinstance(part, dict) and part.get("state") not in (None, "queued", "failed")})
    if not clouds or _waiting(clouds):
        return None
    return request_sync(clouds, trigger="inventory", requested_by=f"inventory sync #{job.pk}")


# --- syncing -----------------------------------------------------------------------------------------------------


def run_sync(job: Job, reporter: jobs.Reporter) -> list[CapacitySnapshot]:
    """The ``capacity.sync`` job: one snapshot per region of the job's clouds."""
    slugs = (job.params or {}).get("clouds") or []
    clouds = [c for c in inventory.syncable_clouds() if not slugs or c.slug in slugs]
    for slug in sorted(set(slugs) - {c.slug for c in clouds}):
        reporter.error("not syncable (no such cloud, no region, or no credentials found by this process)", cloud=slug)
    regions = [(cloud, region) for cloud in clouds for region in cloud.regions.order_by("slug")]
    snapshots = []
    failed = 0
    for done, (cloud, region) in enumerate(regions):
        reporter.set_progress(done / max(len(regions), 1), f"{cloud.slug}/{region.slug}")
        snapshot = sync_region(cloud, region, job=job)
        snapshots.append(snapshot)
        reporter.part(region.key, state=snapshot.status, error=snapshot.error)
        if snapshot.status == CapacitySnapshot.Status.FAILED:
            failed += 1
            reporter.error(snapshot.error, cloud=cloud.slug, region=region.slug)
        else:
            reporter.add(**{f"regions_{snapshot.status}": 1})
    reporter.set_progress(1.0, f"{len(regions) - failed} of {len(regions)} regions measured")
    if failed:
        reporter.outcome = Job.Status.FAILED if failed == len(regions) else Job.Status.PARTIAL
    elif slugs and not clouds:
        reporter.outcome = Job.Status.FAILED
    return snapshots


def sync_region(cloud: Cloud, region: Region, *, job: Job | None = None, connector: Any = None) -> CapacitySnapshot:
    """Measure one region now and store the snapshot (failed or unsupported ones too, with why)."""
    now = timezone.now()
    try:
        report = (connector or inventory.cached_connector(cloud, region)).capacity()
    except NotSupported as exc:
        return CapacitySnapshot.objects.create(region=region, taken_at=now, job=job,
                                               status=CapacitySnapshot.Status.UNSUPPORTED, error=str(exc)[:500])
    except (ConnectorError, OSError) as exc:
        inventory.forget_connector(cloud, region)
        return CapacitySnapshot.objects.create(region=region, taken_at=now, job=job,
                                               status=CapacitySnapshot.Status.FAILED, error=str(exc)[:500])
    return store(region, report, taken_at=now, job=job)


def store(region: Region, report: Mapping[str, Any], *, taken_at: Any = None, job: Job | None = None,
          ) -> CapacitySnapshot:
    """Write a connector's capacity report as a snapshot of ``region`` (one transaction)."""
    taken_at = taken_at or timezone.now()
    with transaction.atomic():
        snapshot = CapacitySnapshot.objects.create(region=region, taken_at=taken_at, job=job,
                                                   providers=list(report.get("providers") or []))
        rows = [("", report.get("region") or {})] + sorted((report.get("zones") or {}).items())
        CapacityFigure.objects.bulk_create([
            CapacityFigure(snapshot=snapshot, region=region, taken_at=taken_at, zone=zone, resource_class=rc,
                           total=f["total"], reserved=f["reserved"], allocatable=f["allocatable"], used=f["used"],
                           free=f["free"], largest_free=f.get("largest_free", 0), providers=f.get("providers", 0))
            for zone, sums in rows for rc, f in sorted(sums.items()) if rc in RESOURCE_CLASSES
        ])
    return snapshot


# --- reading -----------------------------------------------------------------------------------------------------


def as_report(snapshot: CapacitySnapshot) -> dict[str, Any]:
    """A stored snapshot back as the connector's report (providers, region sums, zone sums)."""
    region: dict[str, dict[str, int]] = {}
    zones: dict[str, dict[str, dict[str, int]]] = {}
    for figure in snapshot.figures.all():
        values = {key: getattr(figure, key) for key in
                  ("total", "reserved", "allocatable", "used", "free", "largest_free", "providers")}
        (zones.setdefault(figure.zone, {}) if figure.zone else region)[figure.resource_class] = values
    return {"providers": snapshot.providers, "region": region, "zones": zones}


def latest_snapshots(region_keys: Iterable[str] | None = None) -> dict[str, CapacitySnapshot]:
    """The newest measured snapshot of each region, by ``cloud/region`` key (only those asked for, if given)."""
    snapshots = CapacitySnapshot.latest().select_related("region__cloud").prefetch_related("figures")
    wanted = set(region_keys) if region_keys is not None else None
    found = {}
    for snapshot in snapshots:
        key = snapshot.region.key
        if wanted is None or key in wanted:
            found[key] = snapshot
    return found


def fits(region_keys: Iterable[str], size: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
         ) -> dict[str, dict[str, Any]]:
    """Per region (``cloud/region`` key): would ``size`` (vcpu, ram_mb, disk_gb, count) - or a list of such
    shapes, e.g. the servers a tenant runs - fit in its free capacity as last measured? ``fit.verdict``: fits /
    full (with what is missing) / unknown (never measured)."""
    keys = list(region_keys)
    snapshots = latest_snapshots(keys)
    verdicts = {}
    for key in keys:
        snapshot = snapshots.get(key)
        report = as_report(snapshot) if snapshot is not None else None
        verdicts[key] = fit.verdict(report, size or {},
                                    taken_at=snapshot.taken_at.isoformat() if snapshot is not None else None)
    return verdicts


def server_sizes(servers: Iterable[Mapping[str, Any]]) -> list[dict[str, int]]:
    """One size (``vcpu``, ``ram_mb``, ``disk_gb``, ``count``) per distinct shape of these servers (rows with
    ``normalised`` and ``flavor``: the inventory's normalised attributes and the API's flavour), counted; a server
    whose size the cloud did not report is a server of no known amount (it counts, asks for nothing)."""
    counted: dict[tuple[int, int, int], int] = {}
    for server in servers:
        normalised = server.get("normalised") or {}
        flavor = server.get("flavor") if isinstance(server.get("flavor"), dict) else {}
        shape = tuple(int(v) if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0 for v in (
            normalised.get("vcpus", flavor.get("vcpus")), normalised.get("ram", flavor.get("ram")),
            flavor.get("disk")))
        counted[shape] = counted.get(shape, 0) + 1
    return [{"vcpu": v, "ram_mb": r, "disk_gb": d, "count": n} for (v, r, d), n in sorted(counted.items())]


def would_fit(region_keys: Iterable[str], *, tenant: Any = None, resource_ids: Iterable[int] | None = None,
              ) -> dict[str, dict[str, Any]]:
    """What-if: "if this tenant (its node and the nodes below it) - or these resources - moved to each of these
    regions, would its servers fit?" Per region (``cloud/region`` key), ``fit.verdict`` of the servers not
    already there (they need no new room), by their inventoried sizes, against the region's free capacity as last
    measured, plus ``servers``: how many would move. Reads only; for ``souverain.mobility``."""
    from souverain.inventory.models import Resource
    from souverain.tenancy.services import subtree_query

    servers = Resource.objects.filter(kind="server", gone_at__isnull=True)
    if tenant is not None:
        servers = servers.filter(tenant_id__in=subtree_query(tenant))
    if resource_ids is not None:
        servers = servers.filter(pk__in=list(resource_ids))
    rows = [{"region": f"{cloud}/{region}", "normalised": normalised, "flavor": flavor}
            for cloud, region, normalised, flavor in servers.values_list(
                "cloud__slug", "region__slug", "normalised", "attrs__flavor")]
    keys = list(region_keys)
    verdicts = {}
    for key in keys:
        moving = [row for row in rows if row["region"] != key]
        if not moving:
            verdicts[key] = {**fit.verdict(None, {}), "status": fit.FITS, "message": "nothing to move",
                             "message_fr": "rien à déplacer", "servers": 0}
            continue
        verdict = fits([key], server_sizes(moving))[key]
        verdicts[key] = {**verdict, "servers": len(moving)}
    return verdicts
