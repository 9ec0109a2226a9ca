"""Continuous compliance: every inventoried resource checked against the same rules as placement.

Resources are grouped into equivalence classes — (region, tenant, tags), which is everything a decision
depends on besides the date and the policy set — and each class is decided once (regopy is slow per query,
the classes are few). The violations of every class are then written for all of its resources in ONE
set-based statement (INSERT … SELECT … JOIN … ON CONFLICT), so a pass over a million resources costs a few
queries, not a million. A violation stays open (``last_seen`` refreshed) while a pass finds it, and is
resolved by the first pass that covers its resource and no longer finds it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from souverain.estate import snapshot
from souverain.sovereignty.services import current_knowledge_base

from . import placement
from .models import CompliancePass, Violation
from .workloads import from_tags, merge

# Severity of a denial by pack; operators' own rules ("custom.*") are medium unless they say otherwise.
SEVERITY_BY_PACK = {"secnumcloud": "critical", "extraterritorial": "critical", "hds": "critical",
                    "gdpr_transfers": "high", "requirements": "high", "eucs": "medium"}


def severity_of(rule: str, facts: dict[str, Any] | None = None) -> str:
    declared = (facts or {}).get("severity")
    if declared in {"critical", "high", "medium"}:
        return declared
    return SEVERITY_BY_PACK.get(rule.split(".", 1)[0], "medium")


def tags_mapping(tags: Any) -> dict[str, str]:
    """Resource tags as a mapping: OpenStack tags are strings ("souverain:classes=health"), metadata is a dict."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    mapping: dict[str, str] = {}
    for tag in tags or []:
        key, _, value = str(tag).partition("=")
        mapping[key] = value
    return mapping


def _tenant_layers() -> dict[int | None, dict[str, Any]]:
    from souverain.tenancy.models import Tenant

    layers: dict[int | None, dict[str, Any]] = {None: {}}
    for tenant in Tenant.objects.all():
        layers[tenant.pk] = {"tenant": tenant.slug, "data_classes": tenant.default_data_classes,
                             "requirements": tenant.default_requirements, "safeguards": tenant.safeguards}
    return layers


def _classes(resource_ids: list[int] | None) -> list[tuple[int, int | None, str]]:
    """Distinct (region, tenant, tags as stored) of live resources — read raw so tags compare as stored."""
    where = "gone_at IS NULL"
    params: list[Any] = []
    if resource_ids is not None:
        where += f" AND id IN ({', '.join(['%s'] * len(resource_ids))})"
        params = list(resource_ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT region_id, tenant_id, tags FROM inventory_resource WHERE {where}", params)
        return [(r, t, tags if isinstance(tags, str) else json.dumps(tags)) for r, t, tags in cursor.fetchall()]


def evaluate(*, resource_ids: Iterable[int] | None = None, on: dt.date | None = None, trigger: str = "manual",
             ) -> CompliancePass:
    """One compliance pass, over everything (resource_ids None) or over the given resources only."""
    from souverain.estate.models import Region

    from . import services

    on = on or timezone.localdate()
    scope = None if resource_ids is None else sorted(set(resource_ids))
    started = timezone.now()
    engine = services.current_engine()
    token = services.estate_token()
    context = placement.cached_context(token, on) or placement.build_context(
        snapshot.from_database(), current_knowledge_base(), on, token)
    cases = {case.key: case for case in context.cases}
    region_keys = {pk: f"{cloud}/{slug}" for pk, cloud, slug in Region.objects.values_list("pk", "cloud__slug", "slug")}
    tenants = _tenant_layers()

    def decide(document: dict[str, Any]) -> tuple[list[dict], list[dict]]:
        decision = engine.decide(document)
        return decision.deny, decision.warn

    record = CompliancePass(started=started, trigger=trigger, scope="full" if scope is None else "partial",
                            date=on, policy_version=engine.policy_set.version)
    classes = _classes(scope) if scope is None or scope else []
    denials: list[tuple[int, int | None, str, str, str, str, str]] = []
    for region_id, tenant_id, tags in classes:
        case = cases.get(region_keys.get(region_id, ""))
        if case is None:
            continue
        workload = merge([tenants.get(tenant_id, {}), from_tags(tags_mapping(json.loads(tags)))])
        [(_, deny, _warn)] = placement.decide_all(workload, [case], context.kb_input, on,
                                                  engine.policy_set.version, decide)
        by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in deny:
            by_rule[entry["rule"]].append({"message": entry["message"], "facts": entry.get("facts", {}),
                                           "source": entry.get("source", "")})
        for rule, entries in by_rule.items():
            message = " ".join(e["message"] for e in entries)[:4000]
            severity = max((severity_of(rule, e["facts"]) for e in entries),
                           key=["medium", "high", "critical"].index)
            denials.append((region_id, tenant_id, tags, rule, severity, message, json.dumps(entries, default=str)))
    record.classes = len(classes)

    with transaction.atomic():
        _write(denials, started, scope)
        resolved = Violation.objects.filter(resolved_at__isnull=True, last_seen__lt=started)
        if scope is not None:
            resolved = resolved.filter(resource_id__in=scope)
        record.resolved = resolved.update(resolved_at=started)
        record.opened = Violation.objects.filter(first_seen=started).count()
        live = "SELECT COUNT(*) FROM inventory_resource WHERE gone_at IS NULL"
        with connection.cursor() as cursor:
            cursor.execute(live if scope is None else f"{live} AND id IN ({', '.join(['%s'] * len(scope))})",
                           scope or [])
            record.resources = cursor.fetchone()[0]
        record.finished = timezone.now()
        record.save()
    return record


def _write(denials: list[tuple], started: dt.datetime, scope: list[int] | None) -> None:
    """All violations of the pass in one INSERT … SELECT joining resources to their class's denials."""
    if not denials:
        return
    postgres = connection.vendor == "postgresql"
    # Raw SQL gets the datetime in the form the ORM stores it (SQLite keeps naive UTC text).
    stamp = connection.ops.adapt_datetimefield_value(started)
    tags_type = "jsonb" if postgres else "text"
    same_tenant = "r.tenant_id IS NOT DISTINCT FROM d.tenant_id" if postgres else "r.tenant_id IS d.tenant_id"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS souverain_denial")
        cursor.execute(f"CREATE TEMP TABLE souverain_denial (region_id bigint, tenant_id bigint, tags {tags_type},"
                       " rule varchar(120), severity varchar(10), message text, reason text)")
        cast = "CAST(%s AS jsonb)" if postgres else "%s"
        cursor.executemany(f"INSERT INTO souverain_denial VALUES (%s, %s, {cast}, %s, %s, %s, %s)", denials)
        reason = "CAST(d.reason AS jsonb)" if postgres else "d.reason"
        in_scope = f" AND r.id IN ({', '.join(['%s'] * len(scope))})" if scope else ""
        cursor.execute(
            "INSERT INTO policy_violation (resource_id, tenant_id, region_id, rule, severity, message, reason,"
            " first_seen, last_seen, resolved_at)"
            f" SELECT r.id, r.tenant_id, r.region_id, d.rule, d.severity, d.message, {reason}, %s, %s, NULL"
            " FROM inventory_resource r JOIN souverain_denial d"
            f" ON r.region_id = d.region_id AND {same_tenant} AND r.tags = d.tags"
            f" WHERE r.gone_at IS NULL{in_scope}"
            " ON CONFLICT (resource_id, rule) WHERE resolved_at IS NULL DO UPDATE SET"
            " last_seen = excluded.last_seen, severity = excluded.severity, message = excluded.message,"
            " reason = excluded.reason",
            [stamp, stamp, *(scope or [])],
        )
        cursor.execute("DROP TABLE souverain_denial")
