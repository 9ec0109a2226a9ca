"""A full compliance pass over 100 k and 1 M synthetic resources in PostgreSQL: wall time, peak memory, and
the bytes a violation takes (its table with indexes, over the open violations; the shared denials apart).

Run: .venv/bin/python bench/compliance.py [--sizes 100000,1000000]
Uses the database named by BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/souverain_bench),
which it recreates; any name without the ``souverain_bench`` prefix is refused (bench/benchdb.py).
Resources spread over 20 regions (the example estate's 7, plus copies), 10 tenants with
realistic default classes, and a mix of tags.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import benchdb  # noqa: E402

URL = benchdb.bench_url("souverain_bench")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")


def recreate_database() -> None:
    benchdb.recreate(URL)


TENANT_CLASSES = [["diffusion_restreinte"], ["health"], ["personal"], ["public"], ["internal"], ["personal"],
                  ["special_category"], ["critical_operator"], ["public"], ["internal", "personal"]]
TAGS = ['[]', '[]', '[]', '["souverain:classes=health"]', '["souverain:classes=personal"]',
        '["souverain:eu_only=true"]']


def setup_estate() -> None:
    from django.core.management import call_command

    from souverain.cli.setup import load_example_tenants
    from souverain.estate.models import AvailabilityZone, Region  # noqa: F401
    from souverain.estate.services import apply_file
    from souverain.sovereignty.services import load_knowledge_base
    from souverain.tenancy.models import Tenant

    call_command("migrate", verbosity=0)
    load_knowledge_base("")
    # The example estate's private clouds are dedicated to two example tenants: the estate file refuses
    # tenants that do not exist, so they come first (as `souverain setup` does).
    load_example_tenants()
    apply_file(ROOT / "examples/estate/souverain.yaml")
    regions = list(Region.objects.select_related("cloud"))
    i = 0
    while Region.objects.count() < 20:
        base = regions[i % len(regions)]
        copy = Region.objects.create(cloud=base.cloud, slug=f"{base.slug}-b{i}", name=f"{base.name} (copy {i})")
        copy.datacenters.set(base.datacenters.all())
        copy.backup_datacenters.set(base.backup_datacenters.all())
        i += 1
    for n, classes in enumerate(TENANT_CLASSES):
        Tenant.objects.create(slug=f"tenant-{n}", name=f"Tenant {n}", default_data_classes=classes)


def populate(count: int) -> None:
    from django.db import connection

    from souverain.estate.models import Region
    from souverain.inventory.models import Resource
    from souverain.tenancy.models import Tenant

    regions = list(Region.objects.values_list("pk", "cloud_id"))
    tenants = list(Tenant.objects.values_list("pk", flat=True))
    listed = {"id", "kind", "cloud_id", "region_id", "project_id", "tenant_id", "external_id", "name", "name_sort",
              "status", "attrs", "attrs_hash", "tags", "managed", "first_seen", "last_seen"}
    # Columns added to resources since this bench was written, at their defaults (so the bench keeps running).
    extra = {f.column: f.get_db_prep_save(f.get_default(), connection) for f in Resource._meta.concrete_fields
             if f.column not in listed and not f.null and f.has_default()}
    columns = "".join(f", {column}" for column in extra)
    values = "".join(f", %(x_{column})s" for column in extra)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE inventory_resource CASCADE")
        cursor.execute(
            f"""
            INSERT INTO inventory_resource (kind, cloud_id, region_id, project_id, tenant_id, external_id, name,
                name_sort, status, attrs, attrs_hash, tags, managed, first_seen, last_seen{columns})
            SELECT 'server', (%(clouds)s::bigint[])[1 + g %% %(nr)s], (%(regions)s::bigint[])[1 + g %% %(nr)s],
                   'p' || (g %% 50), (%(tenants)s::bigint[])[1 + (g / 7) %% %(nt)s], 'ext-' || g, 'server-' || g,
                   -- natural.natural_key('server-' || g): the number prefixed by its two-digit length
                   'server-' || lpad(length(g::text)::text, 2, '0') || g,
                   'active', '{{}}'::jsonb, 'x', (%(tags)s::jsonb[])[1 + (g / 3) %% %(ntags)s], false, now(), now()
                   {values}
            FROM generate_series(0, %(count)s - 1) AS g
            """,
            {"clouds": [c for _, c in regions], "regions": [r for r, _ in regions], "nr": len(regions),
             "tenants": tenants, "nt": len(tenants), "tags": TAGS, "ntags": len(TAGS), "count": count,
             **{f"x_{column}": value for column, value in extra.items()}},
        )
        cursor.execute("ANALYZE inventory_resource")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="resource counts, comma-separated")
    args = parser.parse_args()
    recreate_database()
    import django

    django.setup()
    from django.db import connection

    from souverain.policy.compliance import evaluate
    from souverain.policy.models import Denial, Violation

    setup_estate()
    print(f"database: {connection.settings_dict['NAME']} (PostgreSQL {connection.pg_version})")
    for size in [int(s) for s in args.sizes.split(",")]:
        Violation.objects.all().delete()
        start = time.perf_counter()
        populate(size)
        print(f"\n{size:,} resources created in {time.perf_counter() - start:.1f} s")
        for label in ("first pass (opens every violation)", "second pass (steady state)"):
            start = time.perf_counter()
            result = evaluate(trigger="manual")
            elapsed = time.perf_counter() - start
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{label}: {elapsed:.1f} s for {result.resources:,} resources, {result.classes} classes,"
                  f" {result.opened:,} opened, {result.resolved:,} resolved;"
                  f" {result.resources / elapsed:,.0f} resources/s; peak RSS {rss:.0f} MiB")
            print("  of which " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in result.timings.items())
                  + f"; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        open_count = Violation.objects.filter(resolved_at__isnull=True).count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size(%s), pg_total_relation_size(%s)",
                           [Violation._meta.db_table, Denial._meta.db_table])
            size_bytes, denial_bytes = cursor.fetchone()
        print(f"open violations: {open_count:,}; {Violation._meta.db_table} with its indexes and TOAST:"
              f" {size_bytes / 2**20:,.0f} MiB ({size_bytes / max(open_count, 1):,.0f} bytes a violation);"
              f" {Denial.objects.count():,} denials, {Denial._meta.db_table} {denial_bytes / 2**20:,.1f} MiB;"
              f" load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
