"""Running approved requests and day-2 actions on the clouds, as jobs.

``provisioning.execute`` (params ``{"request": id}``, queued by ``services`` once a request is approved) takes the
request's region and the tenant's project on that cloud (its first ``ProjectMapping`` there), checks the cloud's
own quotas (Nova, Cinder, Neutron) on a first attempt, then has the connector's provisioner create the objects
and wait until they are ready, reporting progress to the job and to the request's timeline. The objects are
written into the inventory at once through the sync's own page writer (same hashes, history rows and managed
mark as a sync would write) and ``inventory_changed`` is sent for them, so compliance judges them now rather
than at the next sync. Then the request is finished with what was created.

Resuming. The job kind is idempotent: a worker killed mid-create (kill -9) stops renewing its lease, the job is
queued again and another worker runs it from the start. Every object carries the request's ref
(``request_ref``: the request's id and creation time, so that a test database recreated with the same ids never
meets an earlier run's objects), and the provisioner adopts what exists for it instead of creating a duplicate.
Only a first attempt of a request that was not running yet skips those listings (nothing can exist yet).

Failure. The provisioner deletes what carried the ref and says what it rolled back; the request ends failed
with that list (``services.fail``). A refusal by the cloud's quotas ends it failed before any object is made,
with the numbers (asked, used, limit).

The credentials are the cloud's own (stored or its clouds.yaml entry, as for the sync), scoped to the tenant's
project: the account needs a role (member) on each tenant project it provisions into.

``provisioning.action`` (params ``{"resource": id, "action": ..., "args": {...}}``) runs one day-2 action on an
inventoried server (``connectors.provisioning.SERVER_ACTIONS``) and re-reads the objects it touched into the
inventory. ``request_action`` checks who may act on which resource, and for a resize re-checks the tenant's
quotas and the flavor, before queueing it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from souverain.connectors import ConnectorError, NotFound
from souverain.connectors.provisioning import SERVER_ACTIONS, Part, Provisioner, ProvisioningFailed
from souverain.core import events
from souverain.estate.models import Cloud, Region
from souverain.inventory import kinds as K
from souverain.inventory import services as inventory
from souverain.inventory.models import ProjectMapping, Resource
from souverain.jobs import services as jobs
from souverain.jobs.models import Job
from souverain.jobs.registry import register

from . import services
from .models import ServiceRequest

log = logging.getLogger(__name__)

EXECUTE_JOB = services.EXECUTE_JOB
ACTION_JOB = "provisioning.action"
Status = ServiceRequest.Status

#: Actions that take arguments, and which.
ACTION_ARGS: dict[str, tuple[str, ...]] = {"resize": ("flavor",), "attach_volume": ("volume",),
                                           "detach_volume": ("volume",), "associate_floating_ip": ("floating_ip",),
                                           "disassociate_floating_ip": ("floating_ip",), "reboot": ()}


#: The provisioners' progress messages in French, by pattern (they are English for logs and the job row).
_PROGRESS_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), french) for pattern, french in (
    (r"^found (\d+) objects of an earlier attempt: (.*)$", r"\1 objets d'une tentative précédente repris : \2"),
    (r"^flavor, image and network found$", "gabarit, image et réseau trouvés"),
    (r"^server (\S+) asked$", r"serveur \1 demandé"),
    (r"^server (\S+) ACTIVE$", r"serveur \1 actif"),
    (r"^volume (\S+) asked$", r"volume \1 demandé"),
    (r"^volume (\S+) available$", r"volume \1 disponible"),
    (r"^volume (\S+) attached$", r"volume \1 attaché"),
    (r"^floating IP (\S+) associated$", r"IP flottante \1 associée"),
    (r"^floating IP (\S+)$", r"IP flottante \1"),
    (r"^network (\S+)$", r"réseau \1"),
    (r"^subnet (\S+)$", r"sous-réseau \1"),
    (r"^router (\S+) joined to the external network$", r"routeur \1 relié au réseau externe"),
    (r"^security group (\S+)$", r"groupe de sécurité \1"),
    (r"^(\d+) rules$", r"\1 règles"),
    (r"^failed: (.*); rolling back$", r"échec : \1 ; annulation en cours"),
))


def progress_in_french(message: str) -> str:
    for pattern, french in _PROGRESS_FR:
        if pattern.match(message):
            return pattern.sub(french, message)
    return message


def request_ref(request: ServiceRequest) -> str:
    """The label every cloud object of the request carries: stable for the request, unique across databases."""
    stamp = hashlib.sha256(f"{request.pk}:{request.created.isoformat()}".encode()).hexdigest()[:10]
    return f"req-{request.pk}-{stamp}"


# --- reaching the tenant's project ------------------------------------------------------------------------------

_provisioners: dict[tuple[Any, ...], tuple[float, Provisioner]] = {}
_provisioners_lock = threading.Lock()


def provisioner_for(cloud: Cloud, region: Region, project_id: str) -> Provisioner:
    """The cloud's credentials scoped to ``project_id``, kept like the sync's connectors (token and catalog)."""
    key = (cloud.pk, cloud.created, cloud.last_updated, region.pk, region.slug, project_id)
    with _provisioners_lock:
        hit = _provisioners.get(key)
        if hit is not None and time.monotonic() - hit[0] < inventory.CONNECTOR_TTL:
            return hit[1]
    provisioner = inventory.connector_for(cloud, region).provisioner().for_project(project_id)
    with _provisioners_lock:
        _provisioners[key] = (time.monotonic(), provisioner)
    return provisioner


def tenant_project(request: ServiceRequest) -> str | None:
    mapping = (ProjectMapping.objects.filter(cloud_id=request.region.cloud_id, tenant_id=request.tenant_id)
               .order_by("id").first())
    return mapping.project_id if mapping else None


# --- recording in the inventory ---------------------------------------------------------------------------------


def record_in_inventory(cloud: Cloud, region: Region, objects: list[tuple[str, dict[str, Any]]],
                        job_id: int | None) -> list[int]:
    """Write (connector kind, API JSON) pairs into the inventory as a sync would, then tell compliance.

    Returns the ids of the inventory rows written (created or changed)."""
    tenants = dict(ProjectMapping.objects.filter(cloud=cloud).values_list("project_id", "tenant_id"))
    run = inventory.SyncRun(job_id=job_id, reporter=None, full=False, cloud_threads=1, kind_threads=1)
    ctx = inventory._Region(cloud=cloud, region=region, connector=None, tenants=tenants,  # type: ignore[arg-type]
                            key=f"{cloud.slug}/{region.slug}")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for kind, item in objects:
        by_kind.setdefault(kind, []).append(item)
    stats: Counter[str] = Counter()
    for kind, items in by_kind.items():
        run._apply_page(ctx, K.kind(kind), items, stats, {})
    if run.changed:
        run._notify()
    return sorted(set(run.changed))


def _object(part: Part, request: ServiceRequest) -> dict[str, Any]:
    info = K.kind(part.kind)
    return {"kind": info.name, "id": part.id, "name": K.name_of(info, part.resource), "part": part.part,
            "cloud": request.region.cloud.slug, "region": request.region.key, "adopted": part.adopted}


# --- the execute job --------------------------------------------------------------------------------------------


def validate_execute_params(params: dict[str, Any]) -> dict[str, Any]:
    value = params.get("request")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError("request: the id of a service request is expected")
    return {"request": value}


@register(EXECUTE_JOB, validate=validate_execute_params, idempotent=True)
def execute(job: Job, reporter: jobs.Reporter) -> None:
    request = (ServiceRequest.objects.select_related("tenant", "region__cloud")
               .filter(pk=job.params["request"]).first())
    if request is None:
        reporter.set_progress(1.0, "nothing to do: the request is gone")
        return
    resumed = request.status == Status.RUNNING or job.attempts > 1
    if not services.start(request, job):
        request.refresh_from_db()
        reporter.set_progress(1.0, f"nothing to do: the request is {request.status}")
        return
    try:
        _execute(job, reporter, request, resumed)
    except Exception as exc:
        # Whatever broke before or after the cloud calls: the request must not stay running.
        log.exception("request %s: execution failed", request.pk)
        services.fail(request, f"{type(exc).__name__}: {exc}")
        raise


def _execute(job: Job, reporter: jobs.Reporter, request: ServiceRequest, resumed: bool) -> None:
    spec = services.validate_spec(request.kind, request.name, request.spec)
    region = request.region
    if region is None:
        _fail(reporter, request, "the request has no region")
        return
    project_id = tenant_project(request)
    if project_id is None:
        _fail(reporter, request, f"tenant {request.tenant.slug} has no project on cloud {region.cloud.slug} "
                                 "(an operator maps one in the inventory's project mappings)")
        return
    ref = request_ref(request)
    provisioner = provisioner_for(region.cloud, region, project_id)
    if not resumed:
        shortfalls = provisioner.quota_shortfalls(project_id, spec)
        if shortfalls:
            numbers = "; ".join(map(str, shortfalls))
            _fail(reporter, request, f"the cloud's own quotas of project {project_id} refuse it: {numbers}")
            return
    labels = {"souverain:classes": ",".join(request.effective_classes or []),
              "souverain:tenant": request.tenant.slug}
    last = [0.0]

    def on_progress(fraction: float, message: str) -> None:
        reporter.set_progress(fraction * 0.95, message)
        # The timeline gets the steps, not every poll: a step is a new message at a higher fraction.
        if fraction > last[0] and fraction < 1.0:
            last[0] = fraction
            services.progress(request, message, {"fraction": round(fraction, 2)},
                              message_fr=progress_in_french(message))

    try:
        done = provisioner.create(spec, ref, labels=labels, on_progress=on_progress, fresh=not resumed)
    except ProvisioningFailed as exc:
        rolled_back = [f"{K.kind(kind).name} {id}" for kind, id in exc.rolled_back]
        left = [f"{K.kind(kind).name} {id}" for kind, id in exc.left]
        reporter.error(str(exc), cloud=region.cloud.slug, region=region.slug)
        reporter.outcome = Job.Status.FAILED
        services.fail(request, exc.reason, rolled_back=rolled_back, left=left)
        return
    created = [_object(part, request) for part in done.parts]
    for obj in created:
        services.record_created(request, obj)
    ids = record_in_inventory(region.cloud, region, [(p.kind, p.resource) for p in done.parts], job.pk)
    reporter.add(created=sum(not p.adopted for p in done.parts), adopted=sum(p.adopted for p in done.parts),
                 inventoried=len(ids))
    services.finish(request, created)


def _fail(reporter: jobs.Reporter, request: ServiceRequest, reason: str) -> None:
    reporter.error(reason)
    reporter.outcome = Job.Status.FAILED
    services.fail(request, reason)


# --- day-2 actions ----------------------------------------------------------------------------------------------


class ActionRefused(Exception):
    """The action cannot be asked for (wrong kind, unknown action, bad argument): ``field`` says which input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _argument(resource: Resource, kind: str, value: Any, field: str) -> Resource:
    """An inventoried object of the same cloud, region and tenant as ``resource`` (by its cloud id or name)."""
    rows = Resource.objects.filter(kind=kind, cloud_id=resource.cloud_id, region_id=resource.region_id,
                                   gone_at__isnull=True)
    if kind != "flavor":
        rows = rows.filter(tenant_id=resource.tenant_id)
    match = rows.filter(external_id=str(value)).first() or rows.filter(name=str(value)).first()
    if match is None:
        raise ActionRefused(f"args.{field}", f"no {kind} {value!r} of this tenant in {resource.region}")
    return match


def request_action(resource: Resource, action: str, args: Mapping[str, Any] | None, *, user: Any) -> Job:
    """Check and queue a day-2 action on an inventoried server; the caller checked the user may write it."""
    if resource.kind != "server":
        raise ActionRefused("resource", "day-2 actions apply to servers (volumes are attached from their server)")
    if resource.gone_at is not None:
        raise ActionRefused("resource", "the server is gone from the cloud")
    if action not in SERVER_ACTIONS:
        raise ActionRefused("action", f"{action!r} is not one of {', '.join(SERVER_ACTIONS)}")
    given = dict(args or {})
    wanted = ACTION_ARGS.get(action, ())
    extra = sorted(set(given) - set(wanted) - ({"type"} if action == "reboot" else set()))
    if extra:
        raise ActionRefused(f"args.{extra[0]}", f"not an argument of {action}")
    clean: dict[str, Any] = {}
    for name in wanted:
        if not given.get(name):
            raise ActionRefused(f"args.{name}", f"required for {action}")
        kind = {"flavor": "flavor", "volume": "volume", "floating_ip": "floating_ip"}[name]
        clean[name] = _argument(resource, kind, given[name], name).external_id
    if action == "reboot":
        reboot_type = str(given.get("type", "SOFT")).upper()
        if reboot_type not in ("SOFT", "HARD"):
            raise ActionRefused("args.type", "SOFT or HARD")
        clean["type"] = reboot_type
    if action == "resize":
        _check_resize(resource, clean["flavor"])
    username = user.get_username() if getattr(user, "is_authenticated", False) else "system"
    with transaction.atomic():
        job = jobs.create_job(ACTION_JOB, {"resource": resource.pk, "action": action, "args": clean},
                              requested_by=username, tenant=resource.tenant)
        events.emit("provisioning.action.requested", object_type="inventory.resource", object_id=str(resource.pk),
                    object_repr=f"server {resource.name}"[:200], username=username,
                    data={"action": action, "args": clean, "job": job.pk})
        jobs.enqueue(job)
    return job


def _check_resize(resource: Resource, flavor_id: str) -> None:
    """A resize consumes the flavors' difference: the tenant's quotas (every level) are checked again."""
    from . import quotas

    new = _argument(resource, "flavor", flavor_id, "flavor").attrs
    old = (resource.attrs or {}).get("flavor") or {}
    if resource.tenant is None:
        return
    demand = {"vcpu": max(0, int(new.get("vcpus") or 0) - int(old.get("vcpus") or 0)),
              "ram_mb": max(0, int(new.get("ram") or 0) - int(old.get("ram") or 0))}
    missing = quotas.shortfalls(resource.tenant, demand, resource.cloud)
    if missing:
        raise ActionRefused("args.flavor", "over the tenant's quota: " + "; ".join(
            quotas.describe(shortfall)[0] for shortfall in missing))


def validate_action_params(params: dict[str, Any]) -> dict[str, Any]:
    resource = params.get("resource")
    if not isinstance(resource, int) or isinstance(resource, bool):
        raise ValueError("resource: the id of an inventoried server is expected")
    if params.get("action") not in SERVER_ACTIONS:
        raise ValueError(f"action: one of {', '.join(SERVER_ACTIONS)}")
    args = params.get("args") or {}
    if not isinstance(args, dict):
        raise ValueError("args: an object is expected")
    return {"resource": resource, "action": params["action"], "args": args}


@register(ACTION_JOB, validate=validate_action_params)
def run_action(job: Job, reporter: jobs.Reporter) -> None:
    """Not idempotent: a reboot or a resize interrupted mid-way is not blindly run again (the job fails)."""
    resource = Resource.objects.select_related("cloud", "region").filter(pk=job.params["resource"]).first()
    if resource is None:
        reporter.set_progress(1.0, "nothing to do: the resource is gone from the inventory")
        return
    action, args = job.params["action"], dict(job.params.get("args") or {})
    provisioner = provisioner_for(resource.cloud, resource.region, resource.project_id)
    try:
        after = provisioner.server_action(resource.external_id, action,
                                          on_progress=lambda f, m: reporter.set_progress(f, m), **args)
    except NotFound as exc:
        reporter.error(str(exc))
        reporter.outcome = Job.Status.FAILED
        return
    except ConnectorError as exc:
        reporter.error(str(exc), cloud=resource.cloud.slug, region=resource.region.slug)
        reporter.outcome = Job.Status.FAILED
        events.emit("provisioning.action.failed", object_type="inventory.resource", object_id=str(resource.pk),
                    object_repr=f"server {resource.name}"[:200], username=job.requested_by or "system",
                    data={"action": action, "args": args, "error": str(exc)[:500]})
        return
    touched: list[tuple[str, dict[str, Any]]] = []
    if after is not None:
        touched.append(("servers", after))
    else:
        Resource.objects.filter(pk=resource.pk).update(gone_at=timezone.now(), status="deleted")
    connector = provisioner.connector
    for name, kind in (("volume", "volumes"), ("floating_ip", "floating_ips")):
        if name in args:
            touched.append((kind, connector._getter(kind)(args[name])))
    ids = record_in_inventory(resource.cloud, resource.region, touched, job.pk) if touched else []
    reporter.add(inventoried=len(ids))
    events.emit("provisioning.action.done", object_type="inventory.resource", object_id=str(resource.pk),
                object_repr=f"server {resource.name}"[:200], username=job.requested_by or "system",
                data={"action": action, "args": args, "job": job.pk})


#: What a server's status allows (Nova's own rules, so the portal does not offer what the cloud would refuse).
_ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "active": ("stop", "reboot", "resize", "delete", "attach_volume", "detach_volume", "associate_floating_ip",
               "disassociate_floating_ip"),
    "shutoff": ("start", "resize", "delete", "attach_volume", "detach_volume", "associate_floating_ip",
                "disassociate_floating_ip"),
    "error": ("delete",),
}


def available_actions(resource: Resource) -> list[str]:
    """The day-2 actions the resource's last known status allows (none for a gone one or another kind)."""
    if resource.kind != "server" or resource.gone_at is not None:
        return []
    return list(_ACTIONS_BY_STATUS.get(resource.status, ("delete",)))
