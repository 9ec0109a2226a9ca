"""Inventory query speed: a filtered page of 50 out of 1 000 000 resources in PostgreSQL, through the API.

Run:  .venv/bin/python bench/inventory_query.py [--rows 1000000] [--requests 300]
      (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/souverain_bench_query, created if
      missing; a name without the ``souverain_bench`` prefix is refused: bench/benchdb.py)

Fills the inventory with ``--rows`` resources spread over 4 clouds (2 regions each), 20 tenants, 6 kinds and
5 statuses, with names drawn from a vocabulary ("web-cache-123456") and a few hundred bytes of attributes
each, in one ``INSERT … SELECT generate_series`` (rows are kept between runs when the count matches).
Then times ``GET /api/inventory/resources/?cloud=…&status=…&q=…&limit=50`` (the page *and* its count, as
the API returns them, serialised) as an operator, with random clouds, statuses and search words, and the
same for a tenant user (``?kind=…&q=…``, tenant-scoped). Prints p50/p95/p99 and the plan of one query.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ["web", "db", "api", "cache", "queue", "batch", "front", "back", "auth", "mail", "search", "report",
         "etl", "ml", "gpu", "proxy", "dns", "vpn", "log", "metrics", "backup", "build", "test", "stage",
         "prod", "edge", "core", "store", "media", "game", "chat", "pay", "bill", "crm", "erp", "hr", "wiki",
         "git", "ci", "lab"]
CLOUDS = ["paris", "lyon", "frankfurt", "dublin"]
KINDS = ["server", "volume", "port", "network", "security_group_rule", "floating_ip"]
STATUSES = ["active", "shutoff", "error", "available", "in-use"]


def ensure_database(url: str) -> None:
    from bench import benchdb

    benchdb.ensure(url)


def fill(rows: int, refill: bool) -> None:
    from django.db import connection, transaction

    from souverain.estate.models import Cloud, LegalEntity, Region
    from souverain.inventory.models import Resource
    from souverain.tenancy.models import Tenant

    if not refill and Resource.objects.count() == rows:
        print(f"{rows} rows already there")
        return
    started = time.perf_counter()
    operator, _ = LegalEntity.objects.get_or_create(slug="bench-op", defaults={"name": "Op", "country": "FR"})
    regions = []
    for slug in CLOUDS:
        cloud, _ = Cloud.objects.get_or_create(slug=slug, defaults={"name": slug, "kind": "openstack",
                                                                    "operator": operator})
        for r in ("1", "2"):
            regions.append(Region.objects.get_or_create(cloud=cloud, slug=f"{slug}-{r}", defaults={"name": r})[0])
    tenants = [Tenant.objects.get_or_create(slug=f"tenant-{i}", defaults={"name": f"T{i}"})[0] for i in range(20)]
    words = "(ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "])"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE inventory_resourcechange, inventory_resource CASCADE")
        # Deterministic spread: region by i, tenant by i/7, kind by i/3, status by i/11, name from two words.
        cursor.execute(f"""
            INSERT INTO inventory_resource (kind, cloud_id, region_id, project_id, tenant_id, external_id, name,
                name_sort, status, attrs, attrs_hash, tags, managed, first_seen, last_seen, gone_at, last_sync_id)
            SELECT (%(kinds)s::text[])[1 + (i / 3) %% {len(KINDS)}],
                   (%(clouds)s::bigint[])[1 + i %% {len(regions)}],
                   (%(regions)s::bigint[])[1 + i %% {len(regions)}],
                   'project-' || ((i / 7) %% 20),
                   (%(tenants)s::bigint[])[1 + (i / 7) %% 20],
                   md5(i::text),
                   {words}[1 + i %% 40] || '-' || {words}[1 + (i / 40) %% 40] || '-' || i,
                   -- natural.natural_key of that name: the words have no digits; the number gets its length
                   {words}[1 + i %% 40] || '-' || {words}[1 + (i / 40) %% 40] || '-'
                       || lpad(length(i::text)::text, 2, '0') || i,
                   (%(statuses)s::text[])[1 + (i / 11) %% {len(STATUSES)}],
                   jsonb_build_object('id', md5(i::text), 'name', 'n' || i, 'flavor', jsonb_build_object(
                       'vcpus', 1 + i %% 8, 'ram', 512 * (1 + i %% 16), 'original_name', 'm1.small'),
                       'metadata', jsonb_build_object('owner', 'team-' || i %% 97, 'env', 'prod'),
                       'addresses', jsonb_build_object('net', jsonb_build_array(jsonb_build_object(
                           'addr', '10.' || (i / 65536) %% 256 || '.' || (i / 256) %% 256 || '.' || i %% 256,
                           'version', 4))),
                       'created', '2026-01-01T00:00:00Z', 'description', repeat('x', 120)),
                   md5(i::text), CASE WHEN i %% 5 = 0 THEN '["prod"]'::jsonb ELSE '[]'::jsonb END,
                   false, now(), now(), CASE WHEN i %% 50 = 0 THEN now() END, NULL
            FROM generate_series(1, %(rows)s) AS i
        """, {"kinds": KINDS, "clouds": [r.cloud_id for r in regions], "regions": [r.pk for r in regions],
              "tenants": [t.pk for t in tenants], "statuses": STATUSES, "rows": rows})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE inventory_resource")
    print(f"inserted {rows} rows in {time.perf_counter() - started:.0f}s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--refill", action="store_true", help="Generate the rows again even if they are there.")
    args = parser.parse_args()
    from bench import benchdb

    url = os.environ["DATABASE_URL"] = benchdb.bench_url("souverain_bench_query")
    os.environ.setdefault("SOUVERAIN_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    ensure_database(url)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from souverain.core.roles import Role
    from souverain.tenancy.models import Membership, Tenant

    assert connection.vendor == "postgresql", "this bench is about PostgreSQL (scale mode): set BENCH_DATABASE_URL"
    call_command("migrate", interactive=False, verbosity=0)
    fill(args.rows, args.refill)
    users = {}
    for name, role, tenant in (("bench-ops", Role.OPERATOR_OPS, None),
                               ("bench-tenant", Role.TENANT_MEMBER, Tenant.objects.get(slug="tenant-3"))):
        user, _ = get_user_model().objects.get_or_create(username=name)
        Membership.objects.update_or_create(user=user, defaults={"role": role, "tenant": tenant})
        users[name] = APIClient()
        users[name].force_authenticate(user)

    rng = random.Random(42)
    rows = args.rows
    from django.core import signing

    from souverain.inventory.api.pagination import CURSOR_SALT
    from souverain.inventory.models import Resource

    def cursor_at(position: int) -> str:
        """The next_cursor the API hands out on the page ending at that row (by id: the fill numbers rows)."""
        name_sort, pk = Resource.objects.filter(id__gte=position).order_by("id").values_list("name_sort", "id")[0]
        return signing.dumps([["name_sort", "id"], [name_sort, pk]], salt=CURSOR_SALT, compress=True)

    scenarios = {
        "operator: cloud + status + text": lambda: ("bench-ops", {
            "cloud": rng.choice(CLOUDS), "status": rng.choice(STATUSES[:3]),
            "q": f"{rng.choice(WORDS)}-{rng.choice(WORDS)}" if rng.random() < 0.5 else rng.choice(WORDS)}),
        "tenant user: kind + text (scoped)": lambda: ("bench-tenant", {
            "kind": rng.choice(KINDS), "q": rng.choice(WORDS)}),
        "operator: unfiltered first page": lambda: ("bench-ops", {}),
        "tenant user: unfiltered first page": lambda: ("bench-tenant", {}),
        "operator: unfiltered, cursor anywhere": lambda: ("bench-ops", {"cursor": cursor_at(rng.randrange(rows))}),
        "operator: unfiltered, offset 100 000": lambda: ("bench-ops", {"offset": 100_000}),
    }
    print(f"\n{args.rows} inventory rows in PostgreSQL; {args.requests} requests per scenario, limit=50, "
          "through the API (page + count up to the cap + serialisation); goal p95 <= 100 ms; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for title, make in scenarios.items():
        for _ in range(10):  # warm the caches
            user, params = make()
            users[user].get("/api/inventory/resources/", {**params, "limit": 50})
        timings, cpu, counts, capped = [], [], [], 0
        for _ in range(args.requests):
            user, params = make()
            started, started_cpu = time.perf_counter(), time.process_time()
            response = users[user].get("/api/inventory/resources/", {**params, "limit": 50})
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200, response.content[:300]
            counts.append(response.json()["count"])
            capped += response.json()["count_capped"]
        print(f"  {title:<38} p50 {percentile(timings, 0.5):6.1f} ms   p95 {percentile(timings, 0.95):6.1f} ms   "
              f"p99 {percentile(timings, 0.99):6.1f} ms   (this process's CPU p50 {percentile(cpu, 0.5):5.1f} ms; "
              f"matches per query: median {statistics.median(counts):.0f}, max {max(counts)}, "
              f"{capped} capped)   load {os.getloadavg()[0]:.1f}")
    from django.test.utils import CaptureQueriesContext

    for params in ({"cloud": "paris", "status": "active", "q": "web-cache", "limit": 50}, {"limit": 50}):
        with CaptureQueriesContext(connection) as captured:
            users["bench-ops"].get("/api/inventory/resources/", params)
        for sql in [q["sql"] for q in captured.captured_queries if "inventory_resource" in q["sql"]]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE) " + sql)
                print(f"\nplan of a query of ?{'&'.join(f'{k}={v}' for k, v in params.items())} (as the API sends it):"
                      "\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
