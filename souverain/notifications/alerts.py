"""Sovereignty alerts: the facts the operator's cyber-defence team and the tenants must hear about, each told once.

Every alert goes through ``services.notify`` (so it is an audit record, ``notification.create``, and is delivered by
e-mail and signed webhook to the subscriptions that want it) with a ``dedup_key`` naming the fact: running a check
twice, or two workers running it at once, tells the fact once.

The facts, and when they are looked for:

- ``alert.certificate_expiring`` / ``alert.certificate_expired`` (periodic pass): a certificate whose end of
  validity is within 90, 30 or 7 days, or past. Only the most urgent threshold crossed is told, once per
  certificate, threshold and end date (a renewed certificate, with a new end date, is told again when its turn
  comes). The key: ``cert:<id>:<valid_until>:<threshold>``.
- ``alert.critical_violation`` (periodic pass, over the violations first seen in the last ``LOOKBACK``): one per
  violation (``violation:<id>``).
- ``alert.exposure_changed`` (after an estate apply - the ``estate_applied`` signal - or a knowledge-base release -
  a new ``KnowledgeBaseRelease`` row - , and in the periodic pass for date-driven changes): each region's set of
  (law, channel) that reach it is kept in ``ExposureState``; a law newly reaching a region, through a channel, is
  told with the explanation chain. The first look at a region records its exposure and tells nothing (a new region
  is not a change). The check runs as a job (``notifications.exposure``), never in the request that applied the
  change.
- ``alert.sync_failed`` / ``alert.cloud_stale`` (periodic pass): a region whose last sync of some kind failed, once
  per failure episode (until a success moves ``last_success``); a region not synced successfully for longer than
  twice the sync interval (one missed sync is tolerated).
- ``alert.audit_verification_failed`` (periodic pass over the chain since the last checkpoint, a daily verification
  of the whole chain - beat entry ``notifications-audit-verify`` - and ``audit_verification_failed(report)`` for
  whoever runs a verify): once per first bad record and kind.

Audience. The operator's view (a notification about no tenant) goes to the subscriptions bound to no tenant; a fact
about a cloud also goes to each tenant concerned - the tenants it is dedicated to and those with resources in it -
as a copy bound to that tenant (``tenant_copy``: the operator subscriptions already had the original).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from souverain.estate.models import Certification, Cloud, Region
from souverain.tenancy.models import Tenant

from . import services
from .models import ExposureState, Notification

log = logging.getLogger(__name__)

EXPOSURE_JOB_KIND = "notifications.exposure"
#: Days before the end of a certificate's validity at which it is told (0: expired).
CERTIFICATE_THRESHOLDS = (90, 30, 7)
#: Critical violations first seen this long ago or less are looked at by the periodic pass.
LOOKBACK = dt.timedelta(days=2)

CHANNEL_WORDS = {
    "legal_control": ("legal control", "contrôle juridique"),
    "data_location": ("data location", "localisation des données"),
    "access": ("access", "accès"),
    "supply_chain": ("supply chain", "chaîne d'approvisionnement"),
}


def _link(name: str, *args: Any) -> str:
    return reverse(f"portal:{name}", args=args)


def tenants_concerned(cloud: Cloud, region: Region | None = None) -> list[Tenant]:
    """The tenants a fact about a cloud (or one region of it) concerns: dedicated to them, or holding resources."""
    from souverain.inventory.models import Resource

    holding = Resource.objects.filter(cloud=cloud, tenant__isnull=False, gone_at__isnull=True)
    if region is not None:
        holding = holding.filter(region=region)
    ids = set(holding.values_list("tenant_id", flat=True).distinct())
    ids |= set(cloud.dedicated_to.values_list("pk", flat=True))
    return list(Tenant.objects.filter(pk__in=ids).order_by("pk"))


def _tell(event: str, key: str, *, cloud: Cloud | None = None, region: Region | None = None,
          tenant: Tenant | None = None, **fields: Any) -> list[Notification]:
    """The operator's notification, and a copy for each tenant concerned by the cloud (or the one tenant given)."""
    told = [services.notify(event, tenant=tenant, dedup_key=key, **fields)]
    if tenant is None and cloud is not None:
        for concerned in tenants_concerned(cloud, region):
            told.append(services.notify(event, tenant=concerned, dedup_key=f"{key}:t{concerned.pk}",
                                        tenant_copy=True, **fields))
    return told


# --- certificates ------------------------------------------------------------------------------------------


def certificate_threshold(valid_until: dt.date, today: dt.date) -> int | None:
    """The most urgent threshold crossed: 0 when expired, else the smallest of 90/30/7 days reached, else None."""
    days = (valid_until - today).days
    if days < 0:
        return 0
    crossed = [t for t in CERTIFICATE_THRESHOLDS if days <= t]
    return min(crossed) if crossed else None


def check_certificates(today: dt.date | None = None) -> list[Notification]:
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=max(CERTIFICATE_THRESHOLDS))
    told: list[Notification] = []
    for cert in Certification.objects.filter(valid_until__isnull=False, valid_until__lte=horizon).select_related(
            "cloud", "region").order_by("pk"):
        threshold = certificate_threshold(cert.valid_until, today)
        if threshold is None:
            continue
        key = f"cert:{cert.pk}:{cert.valid_until.isoformat()}:{threshold}"
        if Notification.objects.filter(dedup_key=key).exists():
            continue
        name = " ".join(part for part in (cert.scheme, cert.version, cert.level) if part)
        holder_en = f"region {cert.region.name} of {cert.cloud.name}" if cert.region_id else f"cloud {cert.cloud.name}"
        holder_fr = f"la région {cert.region.name} de {cert.cloud.name}" if cert.region_id else \
            f"le cloud {cert.cloud.name}"
        until = cert.valid_until.isoformat()
        days = (cert.valid_until - today).days
        if threshold == 0:
            event = "alert.certificate_expired"
            subject = {"en": f"Certificate {name} of {holder_en} expired on {until}",
                       "fr": f"Le certificat {name} de {holder_fr} a expiré le {until}"}
            body = {"en": f"The {name} certificate held by {holder_en} is no longer valid since {until}. Workloads "
                          "that require it are no longer compliant there.",
                    "fr": f"Le certificat {name} détenu par {holder_fr} n'est plus valide depuis le {until}. Les "
                          "charges qui l'exigent n'y sont plus conformes."}
        else:
            event = "alert.certificate_expiring"
            subject = {"en": f"Certificate {name} of {holder_en} expires in {days} days ({until})",
                       "fr": f"Le certificat {name} de {holder_fr} expire dans {days} jours ({until})"}
            body = {"en": f"The {name} certificate held by {holder_en} is valid until {until}: {days} days left "
                          f"(threshold {threshold} days).",
                    "fr": f"Le certificat {name} détenu par {holder_fr} est valide jusqu'au {until} : il reste "
                          f"{days} jours (seuil de {threshold} jours)."}
        link = _link("region", cert.region_id) if cert.region_id else _link("cloud", cert.cloud.slug)
        payload = {"certificate": cert.pk, "scheme": cert.scheme, "version": cert.version, "level": cert.level,
                   "cloud": cert.cloud.slug, "region": cert.region.slug if cert.region_id else None,
                   "valid_until": until, "days_left": days, "threshold": threshold}
        told += _tell(event, key, cloud=cert.cloud, region=cert.region, subject=subject, body=body, link=link,
                      payload=payload, actor="system")
    return told


# --- critical violations -----------------------------------------------------------------------------------


def check_violations(now: dt.datetime | None = None) -> list[Notification]:
    from souverain.policy.models import Violation

    now = now or timezone.now()
    told: list[Notification] = []
    fresh = Violation.objects.filter(severity=Violation.Severity.CRITICAL, resolved_at__isnull=True,
                                     first_seen__gte=now - LOOKBACK).select_related(
        "resource", "region__cloud", "tenant").order_by("pk")
    for violation in fresh:
        key = f"violation:{violation.pk}"
        if Notification.objects.filter(dedup_key=key).exists():
            continue
        resource = violation.resource
        where = f"{violation.region.cloud.name} / {violation.region.name}"
        label = getattr(resource, "name", "") or str(resource.pk)
        subject = {"en": f"Critical violation: {label} ({violation.rule}) in {where}",
                   "fr": f"Violation critique : {label} ({violation.rule}) dans {where}"}
        body = {"en": violation.message, "fr": violation.message_fr}
        payload = {"violation": violation.pk, "rule": violation.rule, "resource": resource.pk,
                   "cloud": violation.region.cloud.slug, "region": violation.region.slug,
                   "first_seen": violation.first_seen.isoformat()}
        link = _link("resource", resource.pk)
        told.append(services.notify("alert.critical_violation", tenant=None, dedup_key=key, subject=subject,
                                    body=body, link=link, payload=payload, actor="system"))
        if violation.tenant_id:
            told.append(services.notify("alert.critical_violation", tenant=violation.tenant, tenant_copy=True,
                                        dedup_key=f"{key}:t{violation.tenant_id}", subject=subject, body=body,
                                        link=link, payload=payload, actor="system"))
    return told


# --- exposure ----------------------------------------------------------------------------------------------


def current_exposures(on: dt.date | None = None) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Each region's exposure ((cloud slug, region slug) → its hits), as the region pages compute it."""
    from souverain.estate import db_snapshot
    from souverain.estate.exposure import region_profile
    from souverain.sovereignty.services import current_knowledge_base

    estate = db_snapshot.from_database()
    kb = current_knowledge_base()
    out = {}
    for cloud_id, cloud in estate.clouds.items():
        for region_id in cloud.regions:
            out[(cloud_id, region_id)] = region_profile(estate, cloud_id, region_id, kb, on)["exposure"]
    return out


def _pair(hit: dict[str, Any]) -> str:
    return f"{hit['law']}:{hit['channel']}"


def check_exposure(trigger: str = "periodic", on: dt.date | None = None) -> list[Notification]:
    """Compare each region's exposure with the one last seen; tell each law newly reaching it, by channel."""
    told: list[Notification] = []
    exposures = current_exposures(on)
    regions = {(r.cloud.slug, r.slug): r for r in Region.objects.select_related("cloud")}
    with transaction.atomic():
        states = {s.region_id: s for s in ExposureState.objects.select_for_update().filter(
            region__in=[r.pk for r in regions.values()])}
        for ident, hits in sorted(exposures.items()):
            region = regions.get(ident)
            if region is None:
                continue
            pairs = sorted({_pair(h) for h in hits})
            state = states.get(region.pk)
            if state is None:
                ExposureState.objects.create(region=region, pairs=pairs)
                continue
            before = set(state.pairs)
            new = [h for h in hits if _pair(h) not in before]
            gone = sorted(before - set(pairs))
            if not new and not gone:
                continue
            state.version += 1
            state.pairs = pairs
            state.save(update_fields=["pairs", "version", "updated"])
            by_law: dict[str, list[dict[str, Any]]] = {}
            for hit in new:
                by_law.setdefault(hit["law"], []).append(hit)
            for law, law_hits in sorted(by_law.items()):
                told += _tell_exposure(region, law, law_hits, state.version, trigger)
    return told


def _tell_exposure(region: Region, law: str, hits: list[dict[str, Any]], version: int,
                   trigger: str) -> list[Notification]:
    channels = sorted({h["channel"] for h in hits})
    words_en = ", ".join(CHANNEL_WORDS.get(c, (c, c))[0] for c in channels)
    words_fr = ", ".join(CHANNEL_WORDS.get(c, (c, c))[1] for c in channels)
    law_name = hits[0]["law_name"]
    where = f"{region.cloud.name} / {region.name}"
    explanations = "\n".join(f"- {h['explanation']}" for h in hits)
    subject = {"en": f"{law_name} now reaches {where} ({words_en})",
               "fr": f"{law_name} atteint désormais {where} ({words_fr})"}
    origin_en = {"kb": "a knowledge-base release", "estate": "an estate change"}.get(trigger, "a periodic check")
    origin_fr = {"kb": "une version de la base de connaissances", "estate": "une modification du patrimoine"}.get(
        trigger, "une vérification périodique")
    body = {"en": f"After {origin_en}, {law_name} ({hits[0]['country']}) reaches the region {where} through: "
                  f"{words_en}.\n{explanations}",
            "fr": f"Après {origin_fr}, {law_name} ({hits[0]['country']}) atteint la région {where} par : "
                  f"{words_fr}.\n{explanations}"}
    payload = {"cloud": region.cloud.slug, "region": region.slug, "law": law, "country": hits[0]["country"],
               "channels": channels, "strength": [h["strength"] for h in hits], "trigger": trigger,
               "chain": [h["chain"] for h in hits]}
    key = f"exposure:{region.pk}:{version}:{law}"
    return _tell("alert.exposure_changed", key, cloud=region.cloud, region=region, subject=subject, body=body,
                 link=_link("region", region.pk), payload=payload, actor="system")


TRIGGERS = ("kb", "estate", "periodic", "manual")


def validate_exposure_params(params: dict[str, Any]) -> dict[str, Any]:
    trigger = params.get("trigger", "manual")
    if trigger not in TRIGGERS:
        raise ValueError(f"trigger: one of {', '.join(TRIGGERS)}")
    unknown = sorted(set(params) - {"trigger"})
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown parameter")
    return {"trigger": trigger}


def run_exposure_job(params: dict[str, Any]) -> int:
    return len(check_exposure(str(params.get("trigger") or "periodic")))


def exposure_check_after_commit(trigger: str) -> None:
    """Queue an exposure check once the current transaction commits (one waiting check is enough, however many
    changes the transaction held: it compares against the exposure last seen, not against one change)."""

    def queue() -> None:
        from souverain.jobs import services as jobs
        from souverain.jobs.models import Job

        if not Job.objects.filter(kind=EXPOSURE_JOB_KIND, status=Job.Status.QUEUED).exists():
            jobs.submit(EXPOSURE_JOB_KIND, {"trigger": trigger}, requested_by="system")

    transaction.on_commit(queue)


# --- syncs and staleness ------------------------------------------------------------------------------------


def check_syncs(now: dt.datetime | None = None) -> list[Notification]:
    from souverain.inventory.models import SyncState

    now = now or timezone.now()
    interval = dt.timedelta(seconds=float(getattr(settings, "SOUVERAIN_SYNC_INTERVAL", 300)))
    told: list[Notification] = []
    by_region: dict[int, list[Any]] = {}
    for state in SyncState.objects.exclude(status=SyncState.Status.UNSUPPORTED).select_related(
            "region__cloud").order_by("pk"):
        by_region.setdefault(state.region_id, []).append(state)
    for states in by_region.values():
        region = states[0].region
        cloud = region.cloud
        where = f"{cloud.name} / {region.name}"
        failing = [s for s in states if s.status == SyncState.Status.STALE]
        # The oldest good listing among the parts ever listed (a part never synced yet is not stale, and one that
        # always failed is told as failing).
        successes = [s.last_success for s in states if s.last_success]
        oldest = min(successes) if successes else None
        if failing:
            since = max((s.last_success for s in failing if s.last_success), default=None)
            key = f"sync-failed:{region.pk}:{since.isoformat() if since else 'never'}"
            if not Notification.objects.filter(dedup_key=key).exists():
                errors = "; ".join(f"{s.kind}: {s.error[:200]}" for s in failing)
                told += _tell("alert.sync_failed", key, cloud=cloud, region=region,
                              subject={"en": f"Sync failing for {where}", "fr": f"Synchronisation en échec : {where}"},
                              body={"en": f"The last sync of {where} failed ({errors}). The inventory keeps the last "
                                          "known state.",
                                    "fr": f"La dernière synchronisation de {where} a échoué ({errors}). L'inventaire "
                                          "garde le dernier état connu."},
                              link=_link("sync"), actor="system",
                              payload={"cloud": cloud.slug, "region": region.slug,
                                       "kinds": [s.kind for s in failing]})
        if oldest is not None and now - oldest > 2 * interval:
            key = f"stale:{region.pk}:{oldest.isoformat()}"
            if not Notification.objects.filter(dedup_key=key).exists():
                minutes = int((now - oldest).total_seconds() // 60)
                told += _tell("alert.cloud_stale", key, cloud=cloud, region=region,
                              subject={"en": f"{where} not synced for {minutes} minutes",
                                       "fr": f"{where} non synchronisé depuis {minutes} minutes"},
                              body={"en": f"The inventory of {where} was last synced at {oldest.isoformat()}, longer "
                                          f"ago than its interval ({int(interval.total_seconds())} s).",
                                    "fr": f"L'inventaire de {where} a été synchronisé pour la dernière fois le "
                                          f"{oldest.isoformat()}, il y a plus longtemps que son intervalle "
                                          f"({int(interval.total_seconds())} s)."},
                              link=_link("sync"), actor="system",
                              payload={"cloud": cloud.slug, "region": region.slug,
                                       "last_success": oldest.isoformat()})
    return told


# --- the audit chain ---------------------------------------------------------------------------------------


def audit_verification_failed(report: Any) -> Notification | None:
    """Tell a failed verification (``audit.services.verify``'s report) once per first bad record and kind."""
    if report.ok:
        return None
    first = report.problems[0]
    key = f"audit:{first.seq}:{first.kind}"
    return services.notify(
        "alert.audit_verification_failed", tenant=None, dedup_key=key, actor="system",
        subject={"en": f"Audit trail verification failed at record {first.seq} ({first.kind})",
                 "fr": f"Échec de la vérification du journal d'audit à l'enregistrement {first.seq} ({first.kind})"},
        body={"en": "\n".join(p.message for p in report.problems[:20]),
              "fr": "\n".join(p.message for p in report.problems[:20])},
        link="/api/audit/verify/", payload=report.as_dict())


def check_audit(*, full: bool = False) -> Notification | None:
    """Verify the chain since the last checkpoint (the periodic pass: cheap), or whole (``full``: the daily task)."""
    from souverain.audit import services as audit
    from souverain.audit.models import AuditCheckpoint

    last = None if full else AuditCheckpoint.objects.order_by("-number").first()
    return audit_verification_failed(audit.verify(last.first_seq if last else None))


# --- the periodic pass -------------------------------------------------------------------------------------


def run_periodic() -> list[Notification]:
    told: list[Notification] = []
    for name, check in (("certificates", check_certificates), ("violations", check_violations),
                        ("exposure", check_exposure), ("syncs", check_syncs), ("audit", check_audit)):
        try:
            result = check()
        except Exception:  # noqa: BLE001 - one broken check must not silence the others
            log.exception("alert check %s failed", name)
            continue
        told += result if isinstance(result, list) else [result] if result else []
    return told
