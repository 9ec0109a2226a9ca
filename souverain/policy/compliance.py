"""Continuous compliance: every inventoried resource checked against the same rules as placement.

Only kinds that hold or carry data are evaluated (``holds_data`` in ``inventory.kinds``: servers, volumes,
snapshots, images, object containers); infrastructure objects (ports, security-group rules, quotas...) hold
no data, inherit nothing from their tenant's data classes, and a pass resolves whatever they had open.

Resources are grouped into equivalence classes — (region, tenant, tags, labels), which is everything a
decision depends on besides the date and the policy set — and each class is decided once (regopy is slow per
query, the classes are few). A resource is classified by its tags and by its ``souverain:*`` key-value labels
where its kind keeps them (``labels_at``: Nova/Cinder metadata, Glance image properties): the database
extracts those keys alone, so servers whose other metadata differ still share a class.

Each distinct denial of a class (rule, severity, message and reasons in both languages, facts, source) is
stored once, as a ``Denial`` keyed by its content hash; a violation references it. The violations of every
class are then written for all of its resources in ONE set-based statement (INSERT … SELECT … JOIN), which
copies ids, not text, so a pass over a million resources costs a few queries, not a million, and a violation
row is a few integers. A violation stays open while a pass finds it, and is resolved by the first pass that
covers its resource and no longer finds it. Whether an open violation changed is an integer compare
(``denial_id``): a pass whose classes decide as before writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from souverain.inventory.kinds import DATA_KINDS, KINDS

from . import placement
from .models import CompliancePass, Denial, denial_hash, french_message
from .workloads import from_tags, merge

# Severity of a denial by pack; operators' own rules ("custom.*") are medium unless they say otherwise.
SEVERITY_BY_PACK = {"secnumcloud": "critical", "extraterritorial": "critical", "hds": "critical",
                    "gdpr_transfers": "high", "requirements": "high", "eucs": "medium", "tenancy": "critical"}


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


FOREIGN_PRIVATE_CLOUD = "tenancy.foreign_private_cloud"


def foreign_private_cloud(case: placement.RegionCase, tenant: str | None) -> list[dict[str, Any]]:
    """The denial of a tenant's resource found in a private cloud dedicated to other tenants: whatever data it
    holds, it is in another customer's cloud. Checked here rather than in Rego: it is about the estate's
    ownership, not about a law, and placement never proposes such a region in the first place. The facts name
    the tenant and the cloud only, never the cloud's own tenants."""
    if tenant is None or case.open_to(tenant):
        return []
    params = {"region": case.key, "tenant": tenant}
    entry: dict[str, Any] = {"rule": FOREIGN_PRIVATE_CLOUD, "facts": {"cloud": case.cloud, "tenant": tenant}}
    for language, suffix in (("en", ""), ("fr", "_fr")):
        with translation.override(language):
            entry[f"message{suffix}"] = gettext(
                "Region %(region)s belongs to a private cloud dedicated to other tenants: resources of tenant "
                "%(tenant)s have no place there.") % params
            entry[f"source{suffix}"] = gettext(
                "The estate: a private cloud belongs to the tenants it is dedicated to.")
    return [entry]


def _tenant_layers() -> dict[int | None, dict[str, Any]]:
    from souverain.tenancy.models import Tenant

    from .services import tenant_layer

    layers: dict[int | None, dict[str, Any]] = {None: {}}
    for tenant in Tenant.objects.all():
        layers[tenant.pk] = tenant_layer(tenant)
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


def _evaluated(alias: str) -> str:
    """The condition keeping a statement to live resources of the kinds that hold data."""
    kinds = ", ".join(f"'{name}'" for name in DATA_KINDS)  # names from the kinds registry, not from input
    return f"{alias}.gone_at IS NULL AND {alias}.kind IN ({kinds})"


def _labels(alias: str) -> str:
    """SQL for a resource's ``souverain:*`` labels as one JSON object, read where its kind keeps them.

    Only those keys are extracted, so a class does not split on unrelated metadata; kinds without labels get
    an empty object. Both engines compare the result as stored (jsonb on PostgreSQL, text on SQLite) because
    the same expression computes it when classes are listed and when their denials are joined back."""
    postgres = connection.vendor == "postgresql"
    by_place: dict[str, list[str]] = defaultdict(list)
    for info in KINDS:
        if info.holds_data and info.labels_at is not None:
            by_place[info.labels_at].append(info.name)
    cases = []
    for place, names in sorted(by_place.items()):
        if postgres:
            source = f"{alias}.attrs->'{place}'" if place else f"{alias}.attrs"
            objects = f"CASE jsonb_typeof({source}) WHEN 'object' THEN {source} ELSE '{{}}'::jsonb END"
            extract = (f"(SELECT jsonb_object_agg(l.key, l.value) FROM jsonb_each({objects}) l"
                       " WHERE l.key LIKE 'souverain:%')")
            # A text test first: most objects name no souverain: key, and jsonb_each on every row is the cost.
            named = f"CAST({source} AS text) LIKE '%\"souverain:%'"
        else:
            path = f"'$.{place}'" if place else "'$'"
            extract = (f"(SELECT json_group_object(l.key, l.value) FROM json_each({alias}.attrs, {path}) l"
                       " WHERE l.key LIKE 'souverain:%')")
            named = f"{alias}.attrs LIKE '%\"souverain:%'"
        kinds = ", ".join(f"'{name}'" for name in names)
        cases.append(f"WHEN {alias}.kind IN ({kinds}) AND {named} THEN {extract}")
    empty = "'{}'::jsonb" if postgres else "'{}'"
    if not cases:
        return empty
    return f"COALESCE(CASE {' '.join(cases)} END, {empty})"


@contextmanager
def big_statement_settings() -> Iterator[None]:
    """A transaction, with PostgreSQL settings for a few big statements over the whole inventory (SET LOCAL: for
    it alone): the compliance pass's, and the what-if's class counts (souverain.mobility). JIT compilation is
    paid on every run for statements that return few rows (1.9 s of a 7 s class query at 1 M resources); the
    joins, the distinct and the GROUP BY's sort want more than the default work_mem to stay in memory."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '64MB'")
        yield


MEMBER_TABLE = "souverain_member"


@contextmanager
def _members(within: Callable[[str], str]) -> Iterator[int]:
    """The evaluated resources with their class (region, tenant, tags, labels) in a temporary table, read once:
    the classes are listed from it and their denials joined back to it. Yields how many resources it holds."""
    with big_statement_settings(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MEMBER_TABLE}")
        cursor.execute(f"CREATE TEMP TABLE {MEMBER_TABLE} AS SELECT r.id AS resource_id, r.tenant_id, r.region_id,"
                       f" r.tags, {_labels('r')} AS labels FROM inventory_resource r"
                       f" WHERE {_evaluated('r')}{within('r.id')}")
        count = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {MEMBER_TABLE}")
        if count is None or count < 0:
            cursor.execute(f"SELECT COUNT(*) FROM {MEMBER_TABLE}")
            count = cursor.fetchone()[0]
    try:
        yield count
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {MEMBER_TABLE}")


def _classes() -> list[tuple[int, int | None, str, str]]:
    """Distinct (region, tenant, tags, labels) of the evaluated resources — read raw so they compare as stored."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT region_id, tenant_id, tags, labels FROM {MEMBER_TABLE}")
        return [(r, t, _text(tags), _text(labels)) for r, t, tags, labels in cursor.fetchall()]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def workload_of(tenant_layer: dict[str, Any], tags: Any, labels: Any) -> dict[str, Any]:
    """A resource's workload: its tenant's defaults, then its tags, then its labels (metadata, properties);
    each layer can only make it stricter (workloads.merge)."""
    return merge([tenant_layer, from_tags(tags_mapping(tags)), from_tags(tags_mapping(labels))])


def evaluate(*, resource_ids: Iterable[int] | None = None, on: dt.date | None = None, trigger: str = "manual",
             ) -> CompliancePass:
    """One compliance pass, over everything (resource_ids None) or over the given resources only."""
    from souverain.estate.models import Region

    from . import services

    on = on or timezone.localdate()
    scope = None if resource_ids is None else sorted(set(resource_ids))
    started = timezone.now()
    engine = services.current_engine()
    context = services.current_context(on)
    cases = {case.key: case for case in context.cases}
    region_keys = {pk: f"{cloud}/{slug}" for pk, cloud, slug in Region.objects.values_list("pk", "cloud__slug", "slug")}
    tenants = _tenant_layers()

    record = CompliancePass(started=started, trigger=trigger, scope="full" if scope is None else "partial",
                            date=on, policy_version=engine.policy_set.version)
    clock = time.perf_counter()
    timings: dict[str, float] = {}  # seconds by phase, for benches and logs (not stored)
    with _scope_table(scope) as within, _members(within) as resources:
        # An empty scope: every statement below finds nothing.
        classes = _classes()
        timings["classes"], clock = time.perf_counter() - clock, time.perf_counter()
        found: list[tuple[int, int | None, str, str, str, str, str]] = []  # ... rule, severity, denial hash
        contents: dict[str, tuple[str, str, str, list[dict[str, Any]]]] = {}  # hash -> (rule, severity, ...)
        for region_id, tenant_id, tags, labels in classes:
            case = cases.get(region_keys.get(region_id, ""))
            if case is None:
                continue
            workload = workload_of(tenants.get(tenant_id, {}), json.loads(tags), json.loads(labels))
            [(_, deny, _warn)] = placement.decide_all(workload, [case], context, on, engine)
            deny = [*deny, *foreign_private_cloud(case, workload.get("tenant"))]
            by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for entry in deny:
                by_rule[entry["rule"]].append({
                    "message": entry["message"], "facts": entry.get("facts", {}), "source": entry.get("source", ""),
                    **{key: entry.get(key, "") for key in ("message_fr", "source_fr", "binds", "binds_fr")}})
            for rule, entries in by_rule.items():
                message = " ".join(e["message"] for e in entries)[:4000]
                severity = max((severity_of(rule, e["facts"]) for e in entries),
                               key=["medium", "high", "critical"].index)
                # Through JSON once, so that the hash is of what the database gives back (str for dates...).
                entries = json.loads(json.dumps(entries, default=str))
                digest = denial_hash(rule, severity, message, entries)
                contents.setdefault(digest, (rule, severity, message, entries))
                found.append((region_id, tenant_id, tags, labels, rule, severity, digest))
        ids = denial_ids(contents)
        denials = [(*row[:6], ids[row[6]]) for row in found]
        timings["decisions"], clock = time.perf_counter() - clock, time.perf_counter()
        record.classes = len(classes)

        with big_statement_settings():
            record.resolved, record.opened = _write(denials, started, within)
            record.resources = resources
            record.finished = timezone.now()
            record.save()
        timings["write"] = time.perf_counter() - clock
    record.timings = timings
    return record


def denial_ids(contents: dict[str, tuple[str, str, str, Any]]) -> dict[str, int]:
    """The ids of these denials (content hash -> (rule, severity, message, reason)), inserting the new ones:
    a few thousand rows at most, whatever the number of resources."""
    hashes = sorted(contents)
    ids: dict[str, int] = {}
    for start in range(0, len(hashes), 2000):  # under SQLite's limit of parameters in a statement
        chunk = hashes[start:start + 2000]
        ids.update(Denial.objects.filter(hash__in=chunk).values_list("hash", "id"))
    missing = [digest for digest in hashes if digest not in ids]
    if missing:
        Denial.objects.bulk_create(
            [Denial(hash=digest, rule=rule, severity=severity, message=message, reason=reason,
                    message_fr=french_message(message, reason))
             for digest in missing for rule, severity, message, reason in [contents[digest]]],
            ignore_conflicts=True, batch_size=500)  # another pass may insert the same denial at the same time
        for start in range(0, len(missing), 2000):
            ids.update(Denial.objects.filter(hash__in=missing[start:start + 2000]).values_list("hash", "id"))
    return ids


def _write(denials: list[tuple], started: dt.datetime, within: Callable[[str], str]) -> tuple[int, int]:
    """Apply a pass's findings as set differences; returns how many violations it resolved and opened.

    Found = the evaluated resources joined to their class's denial ids (integers, no text). Its difference
    with the open violations is computed once (a full join on resource and rule): found and not open, open
    and not found, open with another denial. Only those rows are written — inserted, resolved, or pointed at
    their new denial — so a pass whose classes decide as before writes nothing.
    """
    postgres = connection.vendor == "postgresql"
    # Raw SQL gets the datetime in the form the ORM stores it (SQLite keeps naive UTC text).
    stamp = connection.ops.adapt_datetimefield_value(started)
    json_type = "jsonb" if postgres else "text"
    cast = "CAST(%s AS jsonb)" if postgres else "%s"
    tables = ("souverain_denial", "souverain_found", "souverain_diff")
    open_violations = ("(SELECT id, resource_id, rule, denial_id FROM policy_violation"
                       f" WHERE resolved_at IS NULL{within('resource_id')})")
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TEMP TABLE souverain_denial (region_id bigint, tenant_id bigint, tags {json_type},"
                       f" labels {json_type}, rule varchar(120), severity varchar(10), denial_id bigint)")
        if denials:
            cursor.executemany(f"INSERT INTO souverain_denial VALUES (%s, %s, {cast}, {cast}, %s, %s, %s)", denials)
        if postgres:
            cursor.execute("ANALYZE souverain_denial")
        # Equality on COALESCE (not IS NOT DISTINCT FROM) so that PostgreSQL can hash-join.
        cursor.execute(
            "CREATE TEMP TABLE souverain_found AS"
            " SELECT m.resource_id, m.tenant_id, m.region_id, d.rule, d.severity, d.denial_id"
            f" FROM {MEMBER_TABLE} m JOIN souverain_denial d ON m.region_id = d.region_id"
            " AND COALESCE(m.tenant_id, 0) = COALESCE(d.tenant_id, 0) AND m.tags = d.tags AND m.labels = d.labels")
        if postgres:
            cursor.execute("ANALYZE souverain_found")
            cursor.execute(
                "CREATE TEMP TABLE souverain_diff AS"
                " SELECT v.id AS violation_id, f.resource_id, f.tenant_id, f.region_id, f.rule, f.severity,"
                f" f.denial_id FROM {open_violations} v FULL JOIN souverain_found f"
                " ON v.resource_id = f.resource_id AND v.rule = f.rule"
                " WHERE v.id IS NULL OR f.resource_id IS NULL OR v.denial_id <> f.denial_id")
        else:  # the same difference without FULL JOIN (SQLite before 3.39)
            cursor.execute("CREATE INDEX souverain_found_key ON souverain_found (resource_id, rule)")
            cursor.execute(
                "CREATE TEMP TABLE souverain_diff AS"
                " SELECT v.id AS violation_id, f.resource_id, f.tenant_id, f.region_id, f.rule, f.severity,"
                f" f.denial_id FROM souverain_found f LEFT JOIN {open_violations} v"
                " ON v.resource_id = f.resource_id AND v.rule = f.rule"
                " WHERE v.id IS NULL OR v.denial_id <> f.denial_id"
                " UNION ALL SELECT v.id, NULL, NULL, NULL, NULL, NULL, NULL"
                f" FROM {open_violations} v WHERE NOT EXISTS (SELECT 1 FROM souverain_found f"
                " WHERE f.resource_id = v.resource_id AND f.rule = v.rule)")
        cursor.execute(
            "UPDATE policy_violation SET resolved_at = %s"
            " WHERE id IN (SELECT violation_id FROM souverain_diff WHERE resource_id IS NULL)", [stamp])
        resolved = cursor.rowcount
        # A resource deleted since the pass read it has nothing left to violate.
        cursor.execute(
            "INSERT INTO policy_violation (resource_id, tenant_id, region_id, rule, severity, denial_id,"
            " first_seen, last_seen, resolved_at)"
            " SELECT d.resource_id, d.tenant_id, d.region_id, d.rule, d.severity, d.denial_id, %s, %s, NULL"
            " FROM souverain_diff d WHERE d.violation_id IS NULL"
            " AND EXISTS (SELECT 1 FROM inventory_resource r WHERE r.id = d.resource_id)",
            [stamp, stamp],
        )
        opened = cursor.rowcount
        cursor.execute(
            "UPDATE policy_violation SET severity = d.severity, denial_id = d.denial_id, last_seen = %s"
            " FROM souverain_diff d WHERE policy_violation.id = d.violation_id AND d.resource_id IS NOT NULL",
            [stamp],
        )
        for table in tables:
            cursor.execute(f"DROP TABLE {table}")
    return resolved, opened
