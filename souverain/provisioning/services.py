"""Requests: the gate (placement, then quotas), approvals in sequence, and the steps the executor reports.

A request goes: submitted → placement checked → quota checked → approval(s) → approved (its job queued) →
running → done, or ends refused (by the gate), rejected (by an approver), cancelled (by its requester or an
admin), expired (awaiting approval too long) or failed (by the execution). Each step is a ``RequestEvent``
row (who, when, why in English and French, the step's data) and an audit event; nothing else writes a
request's status.

The gate, before anything else and without any cloud call. Placement first: the request's data classes and
requirements merged with the tenant's defaults exactly as for the placement API (``policy.services.place`` with
the tenant named), so a region placement denies is refused with placement's own reasons; "let Souverain choose"
(``auto``) takes the best-ranked allowed region that has what the request names (a server's flavor in its
inventory). Then the quotas of every level from the tenant to the root (``quotas.shortfalls``), with the
tenant rows of that chain locked for the rest of the transaction, so that concurrent requests are counted one
after the other. A refused request is kept, status ``refused`` with the reasons in ``refusal``: who tried to
put what where is worth a record; it consumes nothing.

Bad input (an unknown kind, a spec field, a region that does not exist or is not the tenant's to see) is a
``RequestInvalid`` naming the field, raised before anything is written.

Idempotency. ``submit`` with an ``idempotency_key`` returns the requester's request of that key if there is
one (the unique constraint settles a race between two submissions of the same key), whatever its status.

Approvals. The levels come from the active rules (``approvals.levels_for``), one ``Approval`` row each; level 1
is pending, the others wait. Approving the last level queues the job ``provisioning.execute`` with
``{"request": id}``; a rejection at any level ends the request. A request waiting longer than the rules'
``expire_after_hours`` expires (``expire_waiting``, run periodically).

The executor (``execution.py``) reports through ``start``, ``progress``, ``record_created``, ``finish`` and
``fail``; each checks the status it moves from, so a request cancelled meanwhile is not resurrected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from souverain.connectors import provisioning as specs
from souverain.core import events
from souverain.core.context import current_actor
from souverain.estate.models import Region
from souverain.inventory.models import Resource
from souverain.jobs import services as jobs
from souverain.policy import services as policy
from souverain.policy.workloads import WorkloadError
from souverain.tenancy.models import Tenant

from . import approvals, quotas
from .models import Approval, RequestEvent, ServiceRequest

EXECUTE_JOB = "provisioning.execute"
Status = ServiceRequest.Status
Step = RequestEvent.Step


class RequestInvalid(ValueError):
    """Bad input, before anything is written: ``errors`` is {field: [message]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, ms in errors.items() for m in ms))
        self.errors = errors


class NotAllowed(Exception):
    """The user may not do this to this request (not theirs to cancel, not their approval to decide)."""


class WrongState(Exception):
    """The request is not in a status that allows the action (approve a cancelled one, cancel a done one)."""


def _actor_name(user: Any = None) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        return user.get_username()
    actor = current_actor()
    return actor.username if actor else "system"


def _event(request: ServiceRequest, step: str, message: str, message_fr: str, *, actor: str = "",
           data: Mapping[str, Any] | None = None) -> RequestEvent:
    entry = RequestEvent.objects.create(request=request, step=step, actor=(actor or _actor_name())[:150],
                                        at=timezone.now(), message=message, message_fr=message_fr,
                                        data=dict(data or {}))
    events.emit(f"provisioning.request.{step}", object_type="provisioning.servicerequest", object_id=str(request.pk),
                object_repr=str(request)[:200], username=entry.actor,
                data={"status": request.status, "message": message, **({"data": entry.data} if data else {})})
    return entry


def _notify(event: str, request: ServiceRequest, subject: tuple[str, str], body: tuple[str, str]) -> None:
    from souverain.notifications.services import notify

    notify(event, tenant=request.tenant, subject={"en": subject[0], "fr": subject[1]},
           body={"en": body[0], "fr": body[1]}, link=f"/api/requests/{request.pk}/",
           payload={"request": request.pk, "kind": request.kind, "name": request.name, "status": request.status,
                    "tenant": request.tenant.slug},
           dedup_key=f"provisioning:{request.pk}:{event}:{request.approval_level}")


# --- input ----------------------------------------------------------------------------------------------------


def validate_spec(kind: str, name: str, spec: Any) -> specs.Spec:
    """The connector's spec of this kind, or RequestInvalid naming ``spec.<field>``."""
    if kind not in ServiceRequest.Kind.values:
        raise RequestInvalid({"kind": [_("unknown kind “%(kind)s” (kinds: %(kinds)s)") % {
            "kind": kind, "kinds": ", ".join(ServiceRequest.Kind.values)}]})
    if not isinstance(spec, Mapping):
        raise RequestInvalid({"spec": [_("a JSON object of the kind's fields is expected")]})
    data = dict(spec)
    if "name" in data:
        raise RequestInvalid({"spec.name": [_("the request's name is the object's name: give it as `name`")]})
    if "name" in specs.SPEC_KINDS[kind].__dataclass_fields__:
        data["name"] = name
    try:
        return specs.spec_from_dict(kind, data)
    except ValueError as exc:
        field_name, _colon, message = str(exc).partition(":")
        raise RequestInvalid({f"spec.{field_name.strip()}": [message.strip() or str(exc)]}) from None


def find_region(key: str) -> Region | None:
    cloud, _slash, slug = (key or "").partition("/")
    return Region.objects.select_related("cloud").filter(cloud__slug=cloud, slug=slug).first() if slug else None


def find_flavor(region: Region, flavor: str) -> dict[str, Any] | None:
    """The inventoried flavor of a region by name or id (flavors are per cloud; some clouds list them per region)."""
    rows = Resource.objects.filter(kind="flavor", cloud_id=region.cloud_id, gone_at__isnull=True)
    match = rows.filter(region=region, external_id=flavor).first() or rows.filter(region=region, name=flavor).first() \
        or rows.filter(external_id=flavor).first() or rows.filter(name=flavor).first()
    return match.attrs if match is not None else None


def demand_of(kind: str, spec: specs.Spec, region: Region) -> dict[str, Any]:
    """What the request consumes of the quotas once created, on its region's cloud."""
    demand: dict[str, Any] = {"cloud": region.cloud.slug, "region": region.key}
    if isinstance(spec, specs.ServerSpec):
        flavor = find_flavor(region, spec.flavor)
        if flavor is None:
            raise RequestInvalid({"spec.flavor": [_("no flavor “%(flavor)s” in the inventory of %(region)s") % {
                "flavor": spec.flavor, "region": region.key}]})
        demand.update(instances=1, vcpu=int(flavor.get("vcpus") or 0), ram_mb=int(flavor.get("ram") or 0),
                      volume_gb=(spec.boot_volume_gb or 0) + (spec.volume_gb or 0),
                      floating_ips=1 if spec.floating_ip else 0)
    elif isinstance(spec, specs.VolumeSpec):
        demand["volume_gb"] = spec.size_gb
    elif isinstance(spec, specs.FloatingIpSpec):
        demand["floating_ips"] = 1
    return demand


def _fits(kind: str, spec: specs.Spec, region: Region) -> bool:
    return not isinstance(spec, specs.ServerSpec) or find_flavor(region, spec.flavor) is not None


# --- submission and the gate ------------------------------------------------------------------------------------


def submit(*, tenant: Tenant, user: Any, kind: str, name: str, spec: Any, region: str | None = None,
           auto: bool = False, data_classes: list[str] | None = None, requirements: dict[str, Any] | None = None,
           idempotency_key: str = "") -> tuple[ServiceRequest, bool]:
    """Record a request and pass it through the gate; (request, created). created is False for a known key."""
    idempotency_key = (idempotency_key or "").strip()
    requester = user if getattr(user, "pk", None) else None
    if idempotency_key:
        if len(idempotency_key) > 255:
            raise RequestInvalid({"Idempotency-Key": [_("at most 255 characters")]})
        known = ServiceRequest.objects.filter(requester=requester, idempotency_key=idempotency_key).first()
        if known is not None and requester is not None:
            return known, False
    name = (name or "").strip()
    if not name or len(name) > 255:
        raise RequestInvalid({"name": [_("required, at most 255 characters")]})
    if bool(region) == bool(auto):
        raise RequestInvalid({"region": [
            _("give a region (cloud/region) or ask Souverain to choose (auto), not both")]})
    data_classes = list(data_classes or [])
    requirements = dict(requirements or {})
    if not all(isinstance(c, str) for c in data_classes):
        raise RequestInvalid({"data_classes": [_("a list of data class names")]})
    parsed = validate_spec(kind, name, spec)
    target = None
    if region:
        target = find_region(region)
        if target is None:
            raise RequestInvalid({"region": [_("unknown region “%(region)s” (cloud/region)") % {"region": region}]})
    workload = {"tenant": tenant.slug, "data_classes": data_classes, "requirements": requirements}
    try:
        placed = policy.place(workload)
    except WorkloadError as exc:
        raise RequestInvalid({"workload": list(exc.problems)}) from exc
    visible = {entry["region"] for entry in placed["allowed"]} | {entry["region"] for entry in placed["denied"]}
    if target is not None and target.key not in visible:  # another customer's private cloud: not the tenant's to see
        raise RequestInvalid({"region": [_("unknown region “%(region)s” (cloud/region)") % {"region": region}]})
    if target is not None and target.key in {e["region"] for e in placed["allowed"]}:
        demand_of(kind, parsed, target)  # an unknown flavor is bad input: refused before anything is written
    try:
        with transaction.atomic():
            return _gate(tenant=tenant, requester=requester, user=user, kind=kind, name=name, spec=dict(spec),
                         parsed=parsed, target=target, auto=auto, data_classes=data_classes,
                         requirements=requirements, placed=placed, idempotency_key=idempotency_key), True
    except IntegrityError:
        known = ServiceRequest.objects.filter(requester=requester, idempotency_key=idempotency_key).first()
        if idempotency_key and known is not None:  # the same key submitted twice at once: the other one won
            return known, False
        raise


def _gate(*, tenant: Tenant, requester: Any, user: Any, kind: str, name: str, spec: dict[str, Any],
          parsed: specs.Spec, target: Region | None, auto: bool, data_classes: list[str],
          requirements: dict[str, Any], placed: dict[str, Any], idempotency_key: str) -> ServiceRequest:
    actor = _actor_name(user)
    # Lock the tenant's chain root-first (a constant order: no deadlock between siblings): the quota check and
    # the request's demand become visible to the next request of this subtree together.
    chain_ids = [t.pk for t in quotas.lineage(tenant)]
    list(Tenant.objects.select_for_update().filter(pk__in=chain_ids).order_by("pk"))
    request = ServiceRequest.objects.create(
        tenant=tenant, requester=requester, requester_name=actor, kind=kind, name=name, spec=spec, region=target,
        auto=auto, data_classes=data_classes, requirements=requirements,
        effective_classes=list(placed["workload"].get("data_classes") or []), idempotency_key=idempotency_key)
    _event(request, Step.SUBMITTED, f"{actor} asked for {kind} {name}.", f"{actor} a demandé {kind} {name}.",
           actor=actor, data={"spec": spec, "region": target.key if target else None, "auto": auto})

    # Placement.
    allowed = [entry["region"] for entry in placed["allowed"]]
    if auto:
        regions = {r.key: r for r in Region.objects.select_related("cloud").filter(
            cloud__slug__in={key.split("/")[0] for key in allowed})}
        target = next((regions[key] for key in allowed if key in regions and _fits(kind, parsed, regions[key])), None)
        if target is None:
            return _refuse(request, "placement", "No allowed region can take this request.",
                           "Aucune région autorisée ne peut accueillir cette demande.",
                           {"allowed": allowed, "denied": placed["denied"]})
        request.region = target
    elif target.key not in allowed:
        denied = next(entry for entry in placed["denied"] if entry["region"] == target.key)
        return _refuse(request, "placement", f"Placement denies {target.key}.", f"Le placement refuse {target.key}.",
                       {"region": target.key, "reasons": denied["reasons"]})
    request.demand = demand_of(kind, parsed, target)
    request.save(update_fields=["region", "demand", "last_updated"])
    _event(request, Step.PLACEMENT, f"Placement allows {target.key}" + (" (chosen by Souverain)." if auto else "."),
           f"Le placement autorise {target.key}" + (" (choisie par Souverain)." if auto else "."),
           actor="souverain", data={"region": target.key, "classes": request.effective_classes,
                                    "policy_version": placed.get("policy_version")})

    # Quotas, every level to the root.
    short = quotas.shortfalls(tenant, request.demand, target.cloud, exclude_request=request.pk)
    if short:
        texts = [quotas.describe(s) for s in short]
        return _refuse(request, "quota", " ".join(t[0] for t in texts), " ".join(t[1] for t in texts),
                       {"shortfalls": short})
    _event(request, Step.QUOTA, "Within quotas.", "Dans les quotas.", actor="souverain",
           data={"demand": request.demand})

    # Approvals.
    doc = approvals.current()
    levels = approvals.levels_for(request, doc)
    if len(levels) > approvals.MAX_LEVELS:
        return _refuse(request, "approval", f"The rules ask for {len(levels)} approval levels, more than "
                       f"{approvals.MAX_LEVELS}.", f"Les règles demandent {len(levels)} niveaux d'approbation, "
                       f"plus de {approvals.MAX_LEVELS}.", {"levels": [lv.rule for lv in levels]})
    if not levels:
        _approve_fully(request, "No approval needed.", "Aucune approbation nécessaire.")
        return request
    for number, level in enumerate(levels, start=1):
        Approval.objects.create(request=request, level=number, rule=level.rule, approver=level.approver,
                                approver_tenant=level.tenant,
                                status=Approval.Status.PENDING if number == 1 else Approval.Status.WAITING)
    request.status = Status.AWAITING_APPROVAL
    request.approval_level = 1
    request.expires_at = timezone.now() + approvals.expiry_delay(doc)
    request.save(update_fields=["status", "approval_level", "expires_at", "last_updated"])
    _ask_approval(request)
    return request


def _approver_text(approval: Approval) -> tuple[str, str]:
    if approval.approver.get("role") == approvals.OPERATOR:
        return "an operator", "un opérateur"
    node = approval.approver_tenant.name if approval.approver_tenant_id else "?"
    return f"a {approval.approver['role']} of {node}", f"un {approval.approver['role']} de {node}"


def _ask_approval(request: ServiceRequest) -> None:
    approval = request.approvals.get(level=request.approval_level)
    who_en, who_fr = _approver_text(approval)
    total = request.approvals.count()
    _event(request, Step.APPROVAL_REQUESTED,
           f"Approval {approval.level}/{total} asked of {who_en} (rule {approval.rule}).",
           f"Approbation {approval.level}/{total} demandée à {who_fr} (règle {approval.rule}).",
           actor="souverain", data={"level": approval.level, "approver": approval.approver,
                                    "approver_tenant": approval.approver_tenant.slug if approval.approver_tenant_id
                                    else None})
    _notify("provisioning.approval_needed", request,
            (f"Approval needed: {request.kind} {request.name}", f"Approbation requise : {request.kind} {request.name}"),
            (f"Request #{request.pk} of {request.tenant.name} awaits approval {approval.level}/{total} by {who_en}.",
             f"La demande n°{request.pk} de {request.tenant.name} attend l'approbation {approval.level}/{total} "
             f"par {who_fr}."))


def _refuse(request: ServiceRequest, stage: str, message: str, message_fr: str,
            data: dict[str, Any]) -> ServiceRequest:
    request.status = Status.REFUSED
    request.status_detail = message
    request.refusal = {"stage": stage, "message": message, "message_fr": message_fr, **data}
    request.finished_at = timezone.now()
    request.save(update_fields=["status", "status_detail", "refusal", "region", "finished_at", "last_updated"])
    step = {"placement": Step.PLACEMENT, "quota": Step.QUOTA}.get(stage, Step.REFUSED)
    _event(request, step, message, message_fr, actor="souverain", data=data)
    _event(request, Step.REFUSED, message, message_fr, actor="souverain", data={"stage": stage})
    return request


def _approve_fully(request: ServiceRequest, message: str, message_fr: str) -> None:
    """Approved: queue the execution job (after the commit)."""
    job = jobs.submit(EXECUTE_JOB, {"request": request.pk}, requested_by=request.requester_name or "system",
                      tenant=request.tenant)
    request.status = Status.APPROVED
    request.approval_level = 0
    request.expires_at = None
    request.job = job
    request.save(update_fields=["status", "approval_level", "expires_at", "job", "last_updated"])
    _event(request, Step.APPROVED, message, message_fr, actor="souverain")
    _event(request, Step.QUEUED, f"Job #{job.pk} queued.", f"Tâche n°{job.pk} mise en file.", actor="souverain",
           data={"job": job.pk})


# --- decisions --------------------------------------------------------------------------------------------------


def pending_approval(request: ServiceRequest) -> Approval | None:
    if request.status != Status.AWAITING_APPROVAL:
        return None
    return request.approvals.filter(level=request.approval_level, status=Approval.Status.PENDING).first()


def decide(approval_id: int, user: Any, *, approve: bool, comment: str = "") -> ServiceRequest:
    """Approve or reject the pending level of a request; the last approval queues its job, a rejection ends it."""
    from souverain.tenancy.permissions import membership_of

    comment = (comment or "").strip()[:5000]
    with transaction.atomic():
        approval = Approval.objects.select_for_update().select_related("request", "request__tenant").get(pk=approval_id)
        request = ServiceRequest.objects.select_for_update().get(pk=approval.request_id)
        if not approvals.may_decide(membership_of(user), approval, request):
            raise NotAllowed(_("You may not decide this approval."))
        if approval.status != Approval.Status.PENDING or request.status != Status.AWAITING_APPROVAL \
                or request.approval_level != approval.level:
            raise WrongState(_("This approval is %(approval)s and the request %(request)s.") % {
                "approval": approval.status, "request": request.status})
        actor = _actor_name(user)
        approval.status = Approval.Status.APPROVED if approve else Approval.Status.REJECTED
        approval.decided_by = user if getattr(user, "pk", None) else None
        approval.decided_by_name = actor
        approval.decided_at = timezone.now()
        approval.comment = comment
        approval.save()
        total = request.approvals.count()
        said = f" ({comment})" if comment else ""
        if not approve:
            request.approvals.filter(status=Approval.Status.WAITING).update(status=Approval.Status.VOID)
            request.status = Status.REJECTED
            request.status_detail = comment or "Rejected."
            request.approval_level = 0
            request.finished_at = timezone.now()
            request.save(update_fields=["status", "status_detail", "approval_level", "finished_at", "last_updated"])
            _event(request, Step.REJECTED, f"Rejected by {actor} at level {approval.level}/{total}{said}.",
                   f"Rejetée par {actor} au niveau {approval.level}/{total}{said}.", actor=actor,
                   data={"level": approval.level, "comment": comment})
            _notify_end(request)
            return request
        _event(request, Step.APPROVED, f"Approved by {actor} at level {approval.level}/{total}{said}.",
               f"Approuvée par {actor} au niveau {approval.level}/{total}{said}.", actor=actor,
               data={"level": approval.level, "comment": comment})
        following = request.approvals.filter(level=approval.level + 1).first()
        if following is None:
            _approve_fully(request, "Every approval given.", "Toutes les approbations sont données.")
            return request
        following.status = Approval.Status.PENDING
        following.save(update_fields=["status"])
        request.approval_level = following.level
        request.save(update_fields=["approval_level", "last_updated"])
        _ask_approval(request)
        return request


def may_cancel(membership: Any, request: ServiceRequest) -> bool:
    """Its requester, a tenant-admin of its node or an ancestor, or an operator."""
    from souverain.core.roles import OPERATOR_ROLES, Role

    if membership is None:
        return False
    if membership.role in OPERATOR_ROLES:
        return True
    if request.requester_id is not None and request.requester_id == membership.user_id:
        return True
    return membership.role == Role.TENANT_ADMIN and membership.tenant_id in {
        t.pk for t in quotas.lineage(request.tenant)}


def cancel(request_id: int, user: Any, reason: str = "") -> ServiceRequest:
    """Cancel a request that has not started running (a running one is the executor's to finish or roll back)."""
    from souverain.tenancy.permissions import membership_of

    with transaction.atomic():
        request = ServiceRequest.objects.select_for_update().select_related("tenant").get(pk=request_id)
        if not may_cancel(membership_of(user), request):
            raise NotAllowed(_("You may not cancel this request."))
        if request.status not in (Status.SUBMITTED, Status.AWAITING_APPROVAL, Status.APPROVED):
            raise WrongState(_("A %(status)s request cannot be cancelled.") % {"status": request.status})
        actor = _actor_name(user)
        request.approvals.filter(status__in=[Approval.Status.PENDING, Approval.Status.WAITING]).update(
            status=Approval.Status.VOID)
        request.status = Status.CANCELLED
        request.status_detail = (reason or "").strip()[:2000] or f"Cancelled by {actor}."
        request.approval_level = 0
        request.finished_at = timezone.now()
        request.save(update_fields=["status", "status_detail", "approval_level", "finished_at", "last_updated"])
        _event(request, Step.CANCELLED, f"Cancelled by {actor}.", f"Annulée par {actor}.", actor=actor,
               data={"reason": reason} if reason else None)
        return request


def expire_waiting(now: Any = None) -> list[int]:
    """End every request awaiting approval past its expiry (the periodic task); the ids expired."""
    now = now or timezone.now()
    expired = []
    for pk in ServiceRequest.objects.filter(status=Status.AWAITING_APPROVAL, expires_at__lt=now).values_list(
            "pk", flat=True):
        with transaction.atomic():
            request = ServiceRequest.objects.select_for_update().select_related("tenant").get(pk=pk)
            if request.status != Status.AWAITING_APPROVAL or request.expires_at is None or request.expires_at >= now:
                continue
            request.approvals.filter(status__in=[Approval.Status.PENDING, Approval.Status.WAITING]).update(
                status=Approval.Status.VOID)
            request.status = Status.EXPIRED
            request.status_detail = f"No decision before {request.expires_at:%Y-%m-%d %H:%M} UTC."
            request.approval_level = 0
            request.finished_at = now
            request.save(update_fields=["status", "status_detail", "approval_level", "finished_at", "last_updated"])
            _event(request, Step.EXPIRED, f"Expired: no decision before {request.expires_at:%Y-%m-%d %H:%M} UTC.",
                   f"Expirée : aucune décision avant le {request.expires_at:%d/%m/%Y %H:%M} UTC.", actor="souverain")
            _notify_end(request)
            expired.append(pk)
    return expired


def _notify_end(request: ServiceRequest) -> None:
    status_fr = {Status.DONE: "terminée", Status.FAILED: "en échec", Status.REJECTED: "rejetée",
                 Status.EXPIRED: "expirée"}.get(request.status, request.status)
    event = "provisioning.request_failed" if request.status == Status.FAILED else "provisioning.request_ended"
    _notify(event, request,
            (f"Request {request.name}: {request.status}", f"Demande {request.name} : {status_fr}"),
            (f"Request #{request.pk} ({request.kind} {request.name}) is {request.status}. {request.status_detail}",
             f"La demande n°{request.pk} ({request.kind} {request.name}) est {status_fr}. {request.status_detail}"))


# --- what the executor reports ----------------------------------------------------------------------------------


def _locked(request: ServiceRequest | int) -> ServiceRequest:
    pk = request if isinstance(request, int) else request.pk
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of an outer join (the region, unset for
    # a request still waiting for "auto" placement); only the request's row needs the lock.
    return ServiceRequest.objects.select_for_update(of=("self",)).select_related("tenant", "region__cloud").get(pk=pk)


def start(request: ServiceRequest | int, job: Any = None) -> bool:
    """The execution begins (or resumes after a dead worker); False when the request is no longer to run."""
    with transaction.atomic():
        locked = _locked(request)
        if locked.status not in (Status.APPROVED, Status.RUNNING):
            return False
        resumed = locked.status == Status.RUNNING
        locked.status = Status.RUNNING
        locked.started_at = locked.started_at or timezone.now()
        if job is not None:
            locked.job = job
        locked.save(update_fields=["status", "started_at", "job", "last_updated"])
        _event(locked, Step.RUNNING, "Resumed by another worker." if resumed else "Running.",
               "Reprise par un autre travailleur." if resumed else "En cours.", actor="souverain",
               data={"job": getattr(job, "pk", None)})
    return True


def progress(request: ServiceRequest | int, message: str, data: Mapping[str, Any] | None = None, *,
             message_fr: str = "") -> None:
    pk = request if isinstance(request, int) else request.pk
    locked = ServiceRequest.objects.get(pk=pk)
    _event(locked, Step.PROGRESS, message, message_fr or message, actor="souverain", data=data)


def record_created(request: ServiceRequest | int, obj: Mapping[str, Any]) -> None:
    """One object created (or adopted) for the request, kept at once: a resumed run and a rollback read them."""
    with transaction.atomic():
        locked = _locked(request)
        known = [o for o in locked.created_objects if not (o.get("kind") == obj.get("kind")
                                                           and o.get("id") == obj.get("id"))]
        locked.created_objects = [*known, dict(obj)]
        locked.save(update_fields=["created_objects", "last_updated"])


def finish(request: ServiceRequest | int, created: list[Mapping[str, Any]] | None = None) -> ServiceRequest:
    with transaction.atomic():
        locked = _locked(request)
        if locked.status != Status.RUNNING:
            raise WrongState(f"A {locked.status} request cannot finish.")
        if created is not None:
            locked.created_objects = [dict(o) for o in created]
        locked.status = Status.DONE
        locked.status_detail = ""
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "status_detail", "created_objects", "finished_at", "last_updated"])
        names = ", ".join(f"{o.get('kind')} {o.get('name') or o.get('id')}" for o in locked.created_objects)
        _event(locked, Step.DONE, f"Done: {names or 'nothing to create'}.", f"Terminée : {names or 'rien à créer'}.",
               actor="souverain", data={"created": locked.created_objects})
        _notify_end(locked)
    return locked


def fail(request: ServiceRequest | int, reason: str, *, rolled_back: list[Any] | None = None,
         left: list[Any] | None = None) -> ServiceRequest:
    with transaction.atomic():
        locked = _locked(request)
        if locked.is_final:
            return locked
        locked.status = Status.FAILED
        locked.status_detail = reason[:5000]
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "status_detail", "finished_at", "last_updated"])
        undone = ", ".join(map(str, rolled_back or [])) or "nothing"
        _event(locked, Step.FAILED, f"Failed: {reason}. Rolled back: {undone}.",
               f"Échec : {reason}. Annulé sur le cloud : {undone if rolled_back else 'rien'}.", actor="souverain",
               data={"reason": reason, "rolled_back": list(rolled_back or []), "left": list(left or [])})
        _notify_end(locked)
    return locked
