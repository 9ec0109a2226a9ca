"""Audit trail: append overhead (change-logged writes with and without the chain) and verify throughput.

Run: .venv/bin/python bench/audit.py [--writes 400] [--records 200000]
Uses its own PostgreSQL database (BENCH_DATABASE_URL, default souverain_bench_audit, recreated; see benchdb.py).
Writes: one tenant update per transaction (the history row, plus the audit record in the second run); verify:
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


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


events.remove_recorder(services.record_event)
writes(50, "warm")
plain = writes(args.writes, "plain")
events.add_recorder(services.record_event)
audited = writes(args.writes, "audited")
print(f"writes/s without audit {plain:,.0f}, with the chain {audited:,.0f}: overhead {(1 - audited / plain):.1%}")

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
print(f"verify: {report.records:,} records in {elapsed:.1f} s ({report.records / elapsed:,.0f}/s), ok={report.ok}; "
      f"peak RSS {before:.0f} → {rss_mb():.0f} MiB; 10 M records at this rate: {1e7 / (report.records / elapsed):.0f} s")
