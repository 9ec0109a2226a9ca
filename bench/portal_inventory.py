"""Server time of the portal's inventory page over 100 000 resources (target: ≤ 300 ms), and of its neighbours.

Run: .venv/bin/python bench/portal_inventory.py [--resources 100000] [--repeat 15]
A throw-away SQLite database in a temporary directory (or the PostgreSQL database of BENCH_DATABASE_URL, whose
name must start with ``souverain_bench`` (bench/benchdb.py); the bench recreates it, migrates it and fills it).
Loads the knowledge base and the example estate, writes the resources
(three tenants' worth, every region and kind, each with one history row), then times each page through Django's
test client: the whole request in the server, template rendering included, no network. Prints a table and exits
non-zero when the inventory pages miss the target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_MS = 300.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--data-dir", help="keep the SQLite database here and reuse it on the next run")
    args = parser.parse_args()

    from bench import benchdb

    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = benchdb.bench_url("souverain_bench_portal")
        benchdb.recreate(os.environ["DATABASE_URL"])
    else:
        # Never the application's database: a SQLite file in a directory this bench made (or --data-dir's).
        os.environ.pop("DATABASE_URL", None)
        workdir = args.data_dir or benchdb.temp_data_dir()
        os.environ["SOUVERAIN_DATA_DIR"] = workdir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    os.environ.setdefault("SOUVERAIN_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from souverain.core.roles import Role
    from souverain.estate.services import apply_file
    from souverain.inventory.models import Resource
    from souverain.portal.tests.factories import bulk_resources
    from souverain.sovereignty.services import load_knowledge_base
    from souverain.tenancy.models import Membership, Tenant

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", interactive=False, verbosity=0)
    users = get_user_model()
    if not users.objects.filter(username="bench-operator").exists():
        load_knowledge_base("")
        apply_file(ROOT / "examples" / "estate" / "souverain.yaml")
        tenants = [Tenant.objects.create(slug=f"tenant-{i}", name=f"Tenant {i}") for i in range(3)]
        operator = users.objects.create_user("bench-operator", password="x")
        Membership.objects.create(user=operator, role=Role.OPERATOR_ADMIN)
        member = users.objects.create_user("bench-member", password="x")
        Membership.objects.create(user=member, role=Role.TENANT_MEMBER, tenant=tenants[0])
        started = time.perf_counter()
        bulk_resources(args.resources, tenants=[*tenants, None])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # planner statistics, as autovacuum (PostgreSQL) would gather them
        print(f"{connection.vendor}: {Resource.objects.count()} resources written in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    tenants = list(Tenant.objects.filter(slug__startswith="tenant-").order_by("slug"))
    operator = users.objects.get(username="bench-operator")
    member = users.objects.get(username="bench-member")
    print(f"{connection.vendor}: {Resource.objects.count()} resources", flush=True)

    some = Resource.objects.filter(tenant=tenants[0]).order_by("pk").values_list("pk", flat=True)[500]
    pages = [
        ("inventory", "/inventory/", operator, True),
        ("inventory, sorted by name ↓", "/inventory/?sort=-name", operator, True),
        ("inventory, kind=server", "/inventory/?kind=server", operator, True),
        ("inventory, search", "/inventory/?q=volume-00123", operator, True),
        ("inventory, cloud+tag+status", "/inventory/?cloud=international&tag=prod&status=active", operator, True),
        ("inventory, page 1000", "/inventory/?page=1000", operator, True),
        ("servers (kind page)", "/inventory/servers/", operator, True),
        ("volumes (kind page), sorted ↓", "/inventory/volumes/?sort=-name", operator, True),
        ("servers (kind page), tenant member", "/inventory/servers/", member, True),
        ("inventory, tenant member", "/inventory/", member, True),
        ("inventory, tenant member, sorted", "/inventory/?sort=-last_seen", member, True),
        ("resource page", f"/inventory/{some}/", member, False),
        ("estate overview", "/", operator, False),
        ("estate overview, tenant member", "/", member, False),
    ]
    print(f"\n{'page':36} {'median':>9} {'p95':>9} {'max':>9}   queries")
    failed = False
    for label, url, user, targeted in pages:
        client = Client()
        client.force_login(user)
        response = client.get(url)  # warm up: templates, caches
        assert response.status_code == 200, (url, response.status_code)
        times = []
        for _ in range(args.repeat):
            connection.queries_log.clear()
            begin = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200
        from django.db import reset_queries
        from django.test.utils import CaptureQueriesContext

        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        median = statistics.median(times)
        miss = targeted and median > TARGET_MS
        failed |= miss
        print(f"{label:36} {median:7.1f}ms {p95:7.1f}ms {times[-1]:7.1f}ms   {len(captured):3d}"
              f"{'   MISSES the 300 ms target' if miss else ''}", flush=True)
    print(f"\ntarget: inventory pages ≤ {TARGET_MS:.0f} ms server time (median of {args.repeat})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
