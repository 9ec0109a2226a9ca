"""Concurrent appends on PostgreSQL: threads, each in its own connection and transaction, append at once; the
chain stays linear (seq 1..N, each chained on the one before) and verifies. SQLite serialises every write
transaction by its write lock (IMMEDIATE), which the same code relies on; this test needs real concurrency."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from souverain.audit import services
from souverain.audit.models import AuditRecord

THREADS, EACH = 6, 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_transactions_never_chain_on_the_same_head():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (DATABASE_URL=postgres://...)")
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with transaction.atomic():
                    services.append("test.concurrent", object_id=f"{n}-{i}", data={"n": n, "i": i})
                    services.append("test.concurrent", object_id=f"{n}-{i}b")  # two in one transaction
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    seqs = list(AuditRecord.objects.filter(action="test.concurrent").values_list("seq", flat=True))
    assert len(seqs) == THREADS * EACH * 2
    total = AuditRecord.objects.count()
    assert sorted(AuditRecord.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    report = services.verify()
    assert report.ok, report.problems
