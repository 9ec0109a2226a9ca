"""The seed what-if ("the sovereign cloud moves onto the international cloud's vendor stack") over 1 M inventoried
resources in PostgreSQL: wall time of the answer, cold and warm, with the load average beside each figure.

Run: .venv/bin/python bench/whatif.py [--size 1000000]
Uses the database named by BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/souverain_bench_whatif),
which it recreates; any name without the ``souverain_bench`` prefix is refused (bench/benchdb.py). The estate and
the tenants are those of bench/compliance.py (20 regions, 10 tenants, a mix of tags); the resources are filled by
one INSERT … SELECT generate_series (servers, volumes and ports; metadata with and without a souverain label).
Target (issue 16): the answer in ≤ 10 s.
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
from bench import compliance as compliance_bench  # noqa: E402  (its estate and its fast fill)

URL = benchdb.bench_url("souverain_bench_whatif")
os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
SEED = ROOT / "examples" / "whatif" / "sovereign-on-vendor-stack.yaml"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (2 CPUs)"


def table_counts() -> dict[str, int]:
    from django.apps import apps

    return {m._meta.db_table: m._default_manager.count() for m in apps.get_models()}


def create_example_tenants() -> None:
    """The tenants the example's private clouds are dedicated to (the estate file refuses unknown ones)."""
    import yaml
    from django.core.management import call_command

    from souverain.tenancy.models import Tenant

    call_command("migrate", verbosity=0)
    for entry in yaml.safe_load((ROOT / "examples/tenants.yaml").read_text(encoding="utf-8"))["tenants"]:
        if entry["slug"] in {"gh-saint-martin", "banque-mutualiste-centre"}:
            Tenant.objects.update_or_create(slug=entry["slug"],
                                            defaults={k: v for k, v in entry.items() if k != "slug"})


KINDS = ["server", "server", "volume", "port"]  # a port holds no data: compliance (and the what-if) skip it


def populate(count: int) -> None:
    """``count`` resources in one INSERT … SELECT: bench/compliance.py's spread (region by g, tenant by g/7, tags
    by g/3) plus a kind mix, Nova/Cinder metadata with an unrelated key (which must not split classes) and a
    ``souverain:classes`` label on one resource in 13."""
    from django.db import connection

    from souverain.estate.models import Region
    from souverain.tenancy.models import Tenant

    regions = list(Region.objects.values_list("pk", "cloud_id"))
    tenants = list(Tenant.objects.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE inventory_resource CASCADE")
        cursor.execute(
            """
            INSERT INTO inventory_resource (kind, cloud_id, region_id, project_id, tenant_id, external_id, name,
                name_sort, status, attrs, attrs_hash, tags, managed, first_seen, last_seen)
            SELECT (%(kinds)s::text[])[1 + (g / 5) %% %(nk)s],
                   (%(clouds)s::bigint[])[1 + g %% %(nr)s], (%(regions)s::bigint[])[1 + g %% %(nr)s],
                   'p' || (g %% 50), (%(tenants)s::bigint[])[1 + (g / 7) %% %(nt)s], 'ext-' || g,
                   'server-' || g, 'server-' || lpad(length(g::text)::text, 2, '0') || g, 'active',
                   jsonb_build_object('metadata', jsonb_build_object('owner', 'team-' || g %% 97)
                       || CASE WHEN g %% 13 = 0 THEN '{"souverain:classes": "personal"}'::jsonb ELSE '{}'::jsonb END),
                   'x', (%(tags)s::jsonb[])[1 + (g / 3) %% %(ntags)s], false, now(), now()
            FROM generate_series(0, %(count)s - 1) AS g
            """,
            {"kinds": KINDS, "nk": len(KINDS), "clouds": [c for _, c in regions], "regions": [r for r, _ in regions],
             "nr": len(regions), "tenants": tenants, "nt": len(tenants), "tags": compliance_bench.TAGS,
             "ntags": len(compliance_bench.TAGS), "count": count},
        )
        cursor.execute("ANALYZE inventory_resource")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--pass-first", action="store_true",
                        help="Run the compliance job first (its pass, then sharing its decisions and warming the"
                             " placement classes, as after every sync), then forget this process's decisions: the"
                             " cold what-if is then a fresh web process reading the shared decision store.")
    parser.add_argument("--reuse", action="store_true",
                        help="Keep the bench database of a previous run (same size) instead of refilling it.")
    parser.add_argument("--keep-shared", action="store_true",
                        help="With --reuse: keep the shared decisions an earlier --pass-first run left (same day) and"
                             " measure a fresh process reading them, without running the pass again.")
    args = parser.parse_args()
    if not args.reuse:
        benchdb.recreate(URL)
    import django

    django.setup()
    from django.db import connection

    from souverain.inventory.models import Resource
    from souverain.mobility import services
    from souverain.tenancy.models import Tenant

    if not args.reuse:
        create_example_tenants()
        compliance_bench.setup_estate()
    print(f"database: {connection.settings_dict['NAME']} (PostgreSQL {connection.pg_version})")
    if not args.reuse:
        start = time.perf_counter()
        populate(args.size)
        print(f"{args.size:,} resources created in {time.perf_counter() - start:.1f} s; {load()}")
    else:
        print(f"reusing {Resource.objects.count():,} resources; {load()}")
    if not (args.pass_first or args.keep_shared):  # "nothing ever decided": no decision of an earlier run
        from souverain.policy.models import SharedDecision

        SharedDecision.objects.all().delete()
    if args.pass_first:
        from souverain.policy import services as policy_services
        from souverain.policy.compliance import evaluate
        from souverain.policy.shared import warm_placements

        start = time.perf_counter()
        record = evaluate(trigger="manual")
        print(f"compliance pass: {time.perf_counter() - start:.1f} s; {load()}")
        start = time.perf_counter()
        warm_placements(record.date)  # what the compliance job does next; it shares the pass's decisions
        print(f"decisions shared and placement classes warmed: {time.perf_counter() - start:.1f} s; {load()}")
        policy_services.current_engine().cache.invalidate()  # the what-if below runs as a fresh process would
    question = services.change_question(SEED.read_text(encoding="utf-8"), SEED.name)
    before = table_counts()
    cold = "cold (fresh process, shared store filled by the compliance job)" if (
        args.pass_first or args.keep_shared) else (
        "cold (nothing ever decided: fresh process, empty shared store)")
    for label in (cold, "warm (second run)"):
        cpu = time.process_time()
        start = time.perf_counter()
        answer = services.answer(question)
        elapsed = time.perf_counter() - start
        res = answer["resources"]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"what-if {label}: {elapsed:.2f} s wall, {time.process_time() - cpu:.2f} s CPU of this process;"
              f" {res['evaluated']:,} resources in {res['classes']} classes, {res['decided_classes']} decided,"
              f" {res['newly_non_compliant']:,} newly non-compliant, {res['listed']} listed;"
              f" engine decisions {answer['decisions']}; steps {answer['timings']}; peak RSS {rss:.0f} MiB; {load()}")
    after = table_counts()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    print(f"tables whose row count changed during the what-ifs: {changed or 'none'}")
    tenant = Tenant.objects.get(slug="tenant-0")
    from django.contrib.auth import get_user_model

    from souverain.core.roles import Role
    from souverain.tenancy.models import Membership

    user, created = get_user_model().objects.get_or_create(username="bench-tenant")
    if created:
        Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=tenant)
    before = table_counts()
    start = time.perf_counter()
    try:
        answer = services.answer(question, user=user)
    except Exception as exc:  # noqa: BLE001  (report it, keep the figures above)
        print(f"what-if as a tenant user failed: {exc!r}")
        return
    print(f"what-if as a tenant user ({tenant.slug}): {time.perf_counter() - start:.2f} s;"
          f" {answer['resources']['evaluated']:,} resources, {answer['resources']['newly_non_compliant']:,} newly"
          f" non-compliant; {load()}")
    after = table_counts()
    changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    print(f"tables whose row count changed during the tenant user's what-if: {changed or 'none'}")


if __name__ == "__main__":
    main()
