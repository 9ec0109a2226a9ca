"""Audit trail: append overhead (change-logged writes with and without the chain) and verify throughput.

Run: .venv/bin/python bench/audit.py [--writes 400] [--records 10000000] [--reuse]
Uses its own PostgreSQL database (BENCH_DATABASE_URL, default souverain_bench_audit, recreated unless --reuse
finds it already holding the records; see benchdb.py: a bench never touches a database it did not create).
Writes: one tenant update per transaction (the history row, plus the audit record when audited), and the same
through the API (PATCH); plain and audited rounds alternate, the best of each is kept. Verify: ``services.verify``
over a chain bulk-loaded by COPY from a Python generator that chains real hashes (the indexes dropped for the
load and rebuilt after, as the migrations define them); the process's RSS is sampled every 0.2 s during verify
(memory flat: the rows are streamed), and its CPU time is reported beside the wall time with the load average,
since the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchdb  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--writes", type=int, default=400)
parser.add_argument("--records", type=int, default=200_000)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--reuse", action="store_true", help="keep the bench database if it already holds the records")
parser.add_argument("--skip-writes", action="store_true", help="only load and verify")
parser.add_argument("--skip-verify", action="store_true", help="only the writes")
args = parser.parse_args()

URL = benchdb.bench_url("souverain_bench_audit")
if args.reuse:
    benchdb.ensure(URL)
else:
    benchdb.recreate(URL)
os.environ["DATABASE_URL"] = URL
os.environ["SOUVERAIN_AUDIT_KEY_FILE"] = str(Path(tempfile.mkdtemp(prefix=benchdb.TEMP_PREFIX)) / "key.pem")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from souverain.audit import chain, services  # noqa: E402
from souverain.audit.models import AuditCheckpoint, AuditRecord  # noqa: E402
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


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


# Alternate plain and audited rounds so that the machine's load drifts over both alike; keep each one's best.
results: dict[str, list[float]] = {"model plain": [], "model audited": [], "api plain": [], "api audited": []}
if not args.skip_writes:
    writes(20, "warm")
for round_ in range(0 if args.skip_writes else args.rounds):
    for audited in (False, True):
        (events.add_recorder if audited else events.remove_recorder)(services.record_event)
        mode = "audited" if audited else "plain"
        results[f"model {mode}"].append(writes(args.writes, f"{mode}-{round_}"))
        results[f"api {mode}"].append(api_writes(args.writes // 2, f"{mode}-{round_}"))
events.add_recorder(services.record_event)
for layer in ("model", "api") if not args.skip_writes else ():
    plain, audited = max(results[f"{layer} plain"]), max(results[f"{layer} audited"])
    print(f"{layer} writes/s (best of {args.rounds}) without audit {plain:,.1f}, with the chain {audited:,.1f}: "
          f"overhead {(1 - audited / plain):.1%} ({load_average()})")

# --- a long chain, bulk-loaded with real chained hashes, then verified -----------------------------------------

TABLE = AuditRecord._meta.db_table
COLUMNS = ("seq", "time", "username", "source", "request_id", "action", "object_type", "object_id", "object_repr",
           "data", "prev_hash", "hash")


def data_text(i: int) -> str:
    """A change's before/after as the chain stores it (canonical JSON), about the size of a resource update's."""
    return (f'{{"after":{{"id":{i},"name":"object {i}","size":{i + 1},"tags":{{"env":"prod"}},"tenant":"ministere"}},'
            f'"before":{{"id":{i},"name":"object {i}","size":{i},"tags":{{"env":"test"}},"tenant":"ministere"}}}}')


assert data_text(7) == chain.canonical_json(json.loads(data_text(7)))


def chained_lines(first_seq: int, prev: str, count: int, start: dt.datetime):
    """COPY text lines (no tab, newline or backslash in these values), each record chained on the one before."""
    canonical, sha256, step = chain.record_canonical_text, hashlib.sha256, dt.timedelta(seconds=3)
    moment = start
    for seq in range(first_seq, first_seq + count):
        moment += step
        fields = (str(seq), chain.format_time(moment), "bench", "system", "", "object.update", "bench.object",
                  str(seq), f"object {seq}", data_text(seq), prev)
        prev = sha256(canonical(*fields)).hexdigest()
        yield "\t".join((*fields, prev)) + "\n"


def load(count: int) -> None:
    """Append ``count`` records after the head by COPY, with the indexes dropped and rebuilt (as defined now)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash, time FROM {TABLE} ORDER BY seq DESC LIMIT 1")
        seq, prev, last_time = cursor.fetchone() or (0, chain.GENESIS, timezone.now())
        cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                       "AND contype IN ('p', 'u')", [TABLE])
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                       "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [TABLE, TABLE])
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')
        started = time.perf_counter()
        buffer: list[str] = []
        with cursor.copy(f"COPY {TABLE} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for line in chained_lines(seq + 1, prev, count, last_time):
                buffer.append(line)
                if len(buffer) == 20_000:
                    copy.write("".join(buffer).encode())
                    buffer = []
            copy.write("".join(buffer).encode())
        print(f"loaded {count:,} records by COPY in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
        print(f"indexes rebuilt and table analysed in {time.perf_counter() - started:.0f} s")


def rss_now_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


if args.skip_verify:
    sys.exit(0)
have = AuditRecord.objects.count()
if have < args.records:
    load(args.records - have)
if not AuditCheckpoint.objects.filter(last_seq=AuditRecord.objects.order_by("-seq").values_list("seq", flat=True)
                                      .first()).exists():
    services.make_checkpoint()
samples: list[float] = []
done = threading.Event()


def sample() -> None:
    while not done.wait(0.2):
        samples.append(rss_now_mb())


before = rss_now_mb()
sampler = threading.Thread(target=sample, daemon=True)
print(f"verify starts ({load_average()})")
sampler.start()
cpu, started = time.process_time(), time.perf_counter()
report = services.verify()
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
done.set()
sampler.join()
print(f"verify: {report.records:,} records and {report.checkpoints} checkpoint(s) in {elapsed:.1f} s wall, "
      f"{cpu:.1f} s CPU ({report.records / elapsed:,.0f}/s wall, {cpu / report.records * 1e6:.2f} µs CPU a record), "
      f"ok={report.ok}; RSS {before:.0f} MiB before, {max(samples, default=before):.0f} MiB at most during verify "
      f"(ru_maxrss {rss_mb():.0f} MiB); {load_average()}")
