"""Audit trail: append overhead (change-logged writes with and without the chain) and verify throughput.

Run: .venv/bin/python bench/audit.py [--writes 400] [--records 200000]
Uses its own PostgreSQL database (BENCH_DATABASE_URL, default souverain_bench_audit, recreated; see benchdb.py).
Writes: one tenant update per transaction (the history row, plus the audit record when audited), and the same
through the API (PATCH); plain and audited rounds alternate, the best of each is kept. Verify:
``services.verify`` over a chain bulk-loaded with valid hashes; peak RSS before and after says whether memory
stays flat (the rows are streamed in chunks).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchdb  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--writes", type=int, default=400)
parser.add_argument("--records", type=int, default=200_000)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()

URL = benchdb.bench_url("souverain_bench_audit")
benchdb.recreate(URL)
os.environ["DATABASE_URL"] = URL
os.environ["SOUVERAIN_AUDIT_KEY_FILE"] = str(Path(tempfile.mkdtemp(prefix=benchdb.TEMP_PREFIX)) / "key.pem")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from souverain.audit import chain, services  # noqa: E402
from souverain.audit.models import AuditRecord  # noqa: E402
from souverain.core import events  # noqa: E402
from souverain.tenancy.models import Tenant  # noqa: E402

call_command("migrate", verbosity=0)


def writes(n: int, label: str) -> float:
    tenant = Tenant.objects.create(slug=f"bench-{label}", name="bench")
    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            tenant.name = f"bench {label} {i}"
            tenant.save()
    return n / (time.perf_counter() - started)


def api_writes(n: int, label: str) -> float:
    """The same change through the API (PATCH a tenant): what an audited write costs a user."""
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    user, _ = get_user_model().objects.get_or_create(username="bench-admin", defaults={"is_superuser": True})
    client = APIClient()
    client.force_authenticate(user)
    slug = f"bench-api-{label}"
    Tenant.objects.create(slug=slug, name="bench")
    started = time.perf_counter()
    for i in range(n):
        response = client.patch(f"/api/tenants/{slug}/", {"name": f"bench {label} {i}"}, format="json")
        assert response.status_code == 200, response.content
    return n / (time.perf_counter() - started)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Alternate plain and audited rounds so that the machine's load drifts over both alike; keep each one's best.
results: dict[str, list[float]] = {"model plain": [], "model audited": [], "api plain": [], "api audited": []}
writes(20, "warm")
for round_ in range(args.rounds):
    for audited in (False, True):
        (events.add_recorder if audited else events.remove_recorder)(services.record_event)
        mode = "audited" if audited else "plain"
        results[f"model {mode}"].append(writes(args.writes, f"{mode}-{round_}"))
        results[f"api {mode}"].append(api_writes(args.writes // 2, f"{mode}-{round_}"))
events.add_recorder(services.record_event)
for layer in ("model", "api"):
    plain, audited = max(results[f"{layer} plain"]), max(results[f"{layer} audited"])
    print(f"{layer} writes/s (best of {args.rounds}) without audit {plain:,.1f}, with the chain {audited:,.1f}: "
          f"overhead {(1 - audited / plain):.1%}")

# A long chain, bulk-loaded (valid hashes), then verified.
head = AuditRecord.objects.order_by("-seq").values_list("seq", "hash").first()
seq, prev = head if head else (0, chain.GENESIS)
now = timezone.now()
batch: list[AuditRecord] = []
started = time.perf_counter()
for i in range(args.records):
    seq += 1
    data_text = chain.canonical_json({"after": {"name": f"object {i}", "size": i}, "before": None})
    moment = now + dt.timedelta(microseconds=i)
    fields = {"seq": seq, "time": chain.format_time(moment), "username": "bench", "source": "system",
              "request_id": "", "action": "object.update", "object_type": "bench.object", "object_id": str(i),
              "object_repr": f"object {i}", "data": None, "prev_hash": prev}
    prev = chain.record_hash(fields, data_text)
    batch.append(AuditRecord(**{**fields, "time": moment, "data": data_text, "hash": prev}))
    if len(batch) == 5000:
        AuditRecord.objects.bulk_create(batch)
        batch = []
AuditRecord.objects.bulk_create(batch)
print(f"loaded {args.records:,} records in {time.perf_counter() - started:.1f} s")
services.make_checkpoint()
before = rss_mb()
started = time.perf_counter()
report = services.verify()
elapsed = time.perf_counter() - started
rate = report.records / elapsed
print(f"verify: {report.records:,} records in {elapsed:.1f} s ({rate:,.0f}/s), ok={report.ok}; "
      f"peak RSS {before:.0f} → {rss_mb():.0f} MiB; 10 M records at this rate: {1e7 / rate:,.0f} s")
