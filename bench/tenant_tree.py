"""Organisation tree queries: a tenant's subtree and ancestors among thousands of tenants in PostgreSQL.

Run:  .venv/bin/python bench/tenant_tree.py [--fanout 6] [--roots 4] [--repeat 200]
      (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/souverain_bench_tree, created if missing;
      a name without the ``souverain_bench`` prefix is refused: bench/benchdb.py)

Builds ``--roots`` trees five levels deep with ``--fanout`` children per node (6: 1 555 tenants a tree), kept
between runs when the count matches. Then times ``subtree_ids`` of a root, of a level-3 node and of a leaf,
``ancestors`` of a leaf, and the permission layer's scoped tenant list of a level-2 user (``scope_queryset``:
the subtree as a subquery), each ``--repeat`` times; prints p50/p95 and the plan of the prefix query (the
``varchar_pattern_ops`` index on ``Tenant.path``). The load average is printed beside the figures.
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


def fill(roots: int, fanout: int) -> None:
    from django.db import transaction

    from souverain.tenancy.models import Tenant

    per_tree = sum(fanout ** level for level in range(5))
    if Tenant.objects.filter(slug__startswith="bench-").count() == roots * per_tree:
        print(f"{roots * per_tree} tenants already there")
        return
    if Tenant.objects.filter(slug__startswith="bench-").exists():
        raise SystemExit("bench: another tree shape is stored; drop the bench database (souverain_bench_tree) first")
    started = time.perf_counter()
    with transaction.atomic():
        level = [Tenant.objects.create(slug=f"bench-{r}", name=f"Bench {r}") for r in range(roots)]
        for _depth in range(4):
            below = []
            for parent in level:
                below.extend(Tenant.objects.create(slug=f"{parent.slug}-{i}", name=f"{parent.name}.{i}",
                                                   parent=parent) for i in range(fanout))
            level = below
    print(f"filled {Tenant.objects.count()} tenants in {time.perf_counter() - started:.1f} s")


def timed(label: str, repeat: int, fn) -> None:  # noqa: ANN001
    samples = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    size = len(result) if hasattr(result, "__len__") else result
    print(f"{label:<44} p50 {statistics.median(samples):6.2f} ms  p95 {samples[int(len(samples) * .95) - 1]:6.2f} ms"
          f"  ({size} rows)  load {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fanout", type=int, default=6)
    parser.add_argument("--roots", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from bench import benchdb

    url = os.environ["DATABASE_URL"] = benchdb.bench_url("souverain_bench_tree")
    os.environ.setdefault("SOUVERAIN_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    benchdb.ensure(url)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from souverain.core.roles import Role
    from souverain.tenancy.models import Membership, Tenant
    from souverain.tenancy.permissions import Access, scope_queryset
    from souverain.tenancy.services import ancestors, subtree_ids

    assert connection.vendor == "postgresql", "this bench is about PostgreSQL: set BENCH_DATABASE_URL"
    call_command("migrate", interactive=False, verbosity=0)
    fill(args.roots, args.fanout)
    root = Tenant.objects.get(slug="bench-1")
    level2 = Tenant.objects.get(slug="bench-1-2")
    level3 = Tenant.objects.get(slug="bench-1-2-3")
    leaf = Tenant.objects.filter(path__startswith=level3.path).order_by("-path").first()
    user, _ = get_user_model().objects.get_or_create(username="bench-tree-admin")
    Membership.objects.update_or_create(user=user, defaults={"role": Role.TENANT_ADMIN, "tenant": level2})
    user = get_user_model().objects.get(pk=user.pk)
    access = Access(read=frozenset(Role), tenant_lookup="pk")
    print(f"{Tenant.objects.count()} tenants; PostgreSQL {connection.pg_version}")
    timed("subtree_ids(root)", args.repeat, lambda: subtree_ids(root.pk))
    timed("subtree_ids(level 3)", args.repeat, lambda: subtree_ids(level3.pk))
    timed("subtree_ids(leaf)", args.repeat, lambda: subtree_ids(leaf.pk))
    timed("ancestors(leaf)", args.repeat, lambda: ancestors(leaf))
    timed("scope_queryset(tenants, level-2 admin)", args.repeat,
          lambda: list(scope_queryset(Tenant.objects.all(), user, access).values_list("pk", flat=True)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenancy_tenant")
        cursor.execute("EXPLAIN SELECT id FROM tenancy_tenant WHERE path LIKE %s", [level3.path + "%"])
        print("plan of the prefix query:\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
