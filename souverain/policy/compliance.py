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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from souverain.estate import db_snapshot
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


SCOPE_TABLE = "souverain_scope"


@contextmanager
def _scope_table(scope: list[int] | None) -> Iterator[Callable[[str], str]]:
    """For a partial pass, the resource ids in a temporary table; yields ``within(column)``, the condition
    that keeps a statement to them ('' for a full pass). A table rather than an ``IN (…)`` list: a first sync
    changes every resource, and SQLite refuses more than 32 766 parameters in a statement."""
    if scope is None:
        yield lambda column: ""
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCOPE_TABLE}")
        cursor.execute(f"CREATE TEMP TABLE {SCOPE_TABLE} (resource_id bigint PRIMARY KEY)")
        if connection.vendor == "postgresql":
            cursor.execute(f"INSERT INTO {SCOPE_TABLE} SELECT unnest(%s::bigint[])", [scope])
            cursor.execute(f"ANALYZE {SCOPE_TABLE}")
        else:
            cursor.executemany(f"INSERT INTO {SCOPE_TABLE} VALUES (%s)", [(pk,) for pk in scope])
    try:
        yield lambda column: f" AND {column} IN (SELECT resource_id FROM {SCOPE_TABLE})"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SCOPE_TABLE}")


def _classes(within: Callable[[str], str]) -> list[tuple[int, int | None, str]]:
    """Distinct (region, tenant, tags as stored) of live resources — read raw so tags compare as stored."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT region_id, tenant_id, tags FROM inventory_resource"
                       f" WHERE gone_at IS NULL{within('id')}")
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
        db_snapshot.from_database(), current_knowledge_base(), on, token)
    cases = {case.key: case for case in context.cases}
    region_keys = {pk: f"{cloud}/{slug}" for pk, cloud, slug in Region.objects.values_list("pk", "cloud__slug", "slug")}
    tenants = _tenant_layers()

    def decide(document: dict[str, Any]) -> tuple[list[dict], list[dict]]:
        decision = engine.decide(document)
        return decision.deny, decision.warn

    record = CompliancePass(started=started, trigger=trigger, scope="full" if scope is None else "partial",
                            date=on, policy_version=engine.policy_set.version)
    with _scope_table(scope) as within:  # an empty scope: every statement below finds nothing
        classes = _classes(within)
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
                denials.append((region_id, tenant_id, tags, rule, severity, message,
                                json.dumps(entries, default=str)))
        record.classes = len(classes)

        with transaction.atomic():
            record.resolved = _write(denials, started, within)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM inventory_resource WHERE gone_at IS NULL{within('id')}")
                record.resources = cursor.fetchone()[0]
            record.opened = Violation.objects.filter(first_seen=started).count()
            record.finished = timezone.now()
            record.save()
    return record


def _write(denials: list[tuple], started: dt.datetime, within: Callable[[str], str]) -> int:
    """Apply a pass's findings as set differences; returns how many violations it resolved.

    Found = live resources joined to their class's denials (one statement). Then: open violations no longer
    found are resolved; found ones not yet open are inserted; open ones whose text changed are refreshed.
    Unchanged open violations are not rewritten, so a steady-state pass over a million resources writes
    almost nothing.
    """
    postgres = connection.vendor == "postgresql"
    # Raw SQL gets the datetime in the form the ORM stores it (SQLite keeps naive UTC text).
    stamp = connection.ops.adapt_datetimefield_value(started)
    json_type = "jsonb" if postgres else "text"
    cast = "CAST(%s AS jsonb)" if postgres else "%s"
    with connection.cursor() as cursor:
        for table in ("souverain_denial", "souverain_found"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE souverain_denial (region_id bigint, tenant_id bigint, tags {json_type},"
                       f" rule varchar(120), severity varchar(10), message text, reason {json_type})")
        if denials:
            cursor.executemany(f"INSERT INTO souverain_denial VALUES (%s, %s, {cast}, %s, %s, %s, {cast})", denials)
        # Equality on COALESCE (not IS NOT DISTINCT FROM) so that PostgreSQL can hash-join.
        cursor.execute(
            "CREATE TEMP TABLE souverain_found AS"
            " SELECT r.id AS resource_id, r.tenant_id, r.region_id, d.rule, d.severity, d.message, d.reason"
            " FROM inventory_resource r JOIN souverain_denial d ON r.region_id = d.region_id"
            " AND COALESCE(r.tenant_id, 0) = COALESCE(d.tenant_id, 0) AND r.tags = d.tags"
            f" WHERE r.gone_at IS NULL{within('r.id')}",
        )
        cursor.execute("CREATE INDEX souverain_found_key ON souverain_found (resource_id, rule)")
        if postgres:
            cursor.execute("ANALYZE souverain_found")
        cursor.execute(
            f"UPDATE policy_violation SET resolved_at = %s WHERE resolved_at IS NULL{within('resource_id')}"
            " AND NOT EXISTS (SELECT 1 FROM souverain_found f"
            " WHERE f.resource_id = policy_violation.resource_id AND f.rule = policy_violation.rule)",
            [stamp],
        )
        resolved = cursor.rowcount
        cursor.execute(
            "INSERT INTO policy_violation (resource_id, tenant_id, region_id, rule, severity, message, reason,"
            " first_seen, last_seen, resolved_at)"
            " SELECT f.resource_id, f.tenant_id, f.region_id, f.rule, f.severity, f.message, f.reason, %s, %s, NULL"
            " FROM souverain_found f WHERE NOT EXISTS (SELECT 1 FROM policy_violation v"
            " WHERE v.resolved_at IS NULL AND v.resource_id = f.resource_id AND v.rule = f.rule)",
            [stamp, stamp],
        )
        changed = "v.message <> f.message OR v.severity <> f.severity"
        cursor.execute(
            "UPDATE policy_violation AS v SET severity = f.severity, message = f.message, reason = f.reason,"
            f" last_seen = %s FROM souverain_found f WHERE v.resolved_at IS NULL AND v.resource_id = f.resource_id"
            f" AND v.rule = f.rule AND ({changed})",
            [stamp],
        )
        for table in ("souverain_denial", "souverain_found"):
            cursor.execute(f"DROP TABLE {table}")
    return resolved
