"""Jobs against real processes: a worker killed with SIGKILL mid-job, and SQLite under concurrent writers.

The processes (``_procs.py``) share the test's database: on SQLite a file copy of the in-memory test database
(taken with SQLite's backup API once the test has written its world), on PostgreSQL the test database itself.
The test reads the shared database with plain SQL, as one more client of it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from ._procs import HANG_FOREVER, HANG_ONCE

REPO = Path(__file__).resolve().parents[3]
LEASE = 3.0  # seconds: the lease the processes run with (the default is longer, see services.job_lease)


@dataclass
class SharedDatabase:
    url: str
    sqlite_path: Path | None = None

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.sqlite_path is not None:
            with sqlite3.connect(self.sqlite_path, timeout=30) as db:
                return db.execute(sql.replace("%s", "?"), params).fetchall()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def jobs(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        marks = ", ".join(["%s"] * len(ids))
        rows = self.rows(f"SELECT id, status, attempts, worker, message FROM jobs_job WHERE id IN ({marks})",
                         tuple(ids))
        return {row[0]: dict(zip(("id", "status", "attempts", "worker", "message"), row, strict=True))
                for row in rows}


@pytest.fixture
def shared_database(tmp_path: Path) -> SharedDatabase:
    """Call it once the test's world is written: the processes see the database as it is then (on SQLite)."""
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        path = tmp_path / "shared.sqlite3"
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return SharedDatabase(url=f"sqlite:///{path}", sqlite_path=path)
    s = connection.settings_dict
    return SharedDatabase(url=f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
                              f"/{s['NAME']}")


@dataclass
class Proc:
    popen: subprocess.Popen
    events: queue.Queue = field(default_factory=queue.Queue)
    lines: list[str] = field(default_factory=list)

    def expect(self, event: str, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {event!r} from {self.popen.args} in {timeout}s; output:\n"
                                     + "".join(self.lines[-40:])) from None
            if message.get("event") == event:
                return message


@pytest.fixture
def start(shared_database: SharedDatabase, tmp_path: Path) -> Iterator[Any]:
    procs: list[Proc] = []

    def run(*args: str, env: dict[str, str] | None = None) -> Proc:
        environment = {**os.environ, "DATABASE_URL": shared_database.url, "SOUVERAIN_DATA_DIR": str(tmp_path),
                       "SOUVERAIN_JOB_LEASE": str(LEASE), "SOUVERAIN_SYNC_AT_START": "false",
                       "SOUVERAIN_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO), **(env or {})}
        environment.pop("CELERY_BROKER_URL", None)
        popen = subprocess.Popen([sys.executable, "-m", "souverain.jobs.tests._procs", *args], cwd=REPO,
                                 env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        proc = Proc(popen)

        def read() -> None:
            for line in popen.stdout:  # type: ignore[union-attr]
                proc.lines.append(line)
                if line.startswith("{"):
                    proc.events.put(json.loads(line))

        threading.Thread(target=read, daemon=True).start()
        procs.append(proc)
        return proc

    yield run
    for proc in procs:
        if proc.popen.poll() is None:
            proc.popen.kill()
        proc.popen.wait(10)
    if shared_database.sqlite_path is None:
        # PostgreSQL ends a killed process's sessions when it notices: wait, so that the test database can be dropped.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and shared_database.rows(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )[0][0]:
            time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_is_recovered_within_its_lease(shared_database, start):
    # The way `souverain sync` runs a job: in a thread of the CLI's own process, which the user may kill.
    runner = start("run-jobs", HANG_FOREVER, HANG_ONCE, env={"SOUVERAIN_TEST_HANG": "1"})
    idempotent, not_idempotent = runner.expect("created")["jobs"]
    runner.expect("running")
    runner.expect("running")
    server = start("server")  # the server's worker and recovery, as `souverain run` starts them
    server.expect("ready")
    dead_worker = shared_database.jobs([idempotent])[idempotent]["worker"]
    assert shared_database.jobs([idempotent, not_idempotent])[not_idempotent]["status"] == "running"

    os.kill(runner.popen.pid, signal.SIGKILL)
    killed = time.monotonic()
    finished: dict[int, float] = {}
    while len(finished) < 2 and time.monotonic() - killed < 60:
        for pk, job in shared_database.jobs([idempotent, not_idempotent]).items():
            if job["status"] in ("succeeded", "failed", "partial"):
                finished.setdefault(pk, time.monotonic() - killed)
        time.sleep(0.1)
    jobs = shared_database.jobs([idempotent, not_idempotent])
    print(f"recovered after {finished} s (lease {LEASE} s)")
    assert len(finished) == 2, f"still not recovered 60 s after the kill: {jobs}"

    # Idempotent: queued again and run to the end by the surviving worker.
    again = jobs[idempotent]
    assert again["status"] == "succeeded" and again["attempts"] == 2 and again["worker"] != dead_worker, again
    # Not idempotent: failed, saying why and which worker.
    failed = jobs[not_idempotent]
    assert failed["status"] == "failed" and failed["attempts"] == 1, failed
    assert dead_worker in failed["message"] and "lease" in failed["message"], failed["message"]
    # Within the lease (plus the recovery timer's tick and a loaded machine's slack): seconds, not minutes.
    assert max(finished.values()) < LEASE + 7, finished


@pytest.mark.django_db(transaction=True)
def test_a_compliance_pass_concurrent_with_api_writes_does_not_fail_on_sqlite(example_estate, role_users, tenants,
                                                                               request):
    if connection.vendor != "sqlite":
        pytest.skip("the embedded SQLite database's locking; PostgreSQL has row locks")
    from souverain.portal.tests.factories import bulk_resources

    bulk_resources(3000, tenants=[tenants["home"], tenants["foreign"], None])
    tenants["foreign"].default_data_classes = ["health"]
    tenants["foreign"].save()
    shared = request.getfixturevalue("shared_database")
    run = request.getfixturevalue("start")
    stop = shared.url.removeprefix("sqlite:///") + ".stop"
    writer = run("api-writer", stop)
    writer.expect("writing", timeout=120)
    started = time.monotonic()
    evaluated = run("compliance", "3").expect("done", timeout=300)  # while the API writes
    Path(stop).touch()
    writes = writer.expect("done", timeout=60)
    print(f"{evaluated['passes']} compliance passes in {time.monotonic() - started:.1f} s, {writes['writes']} API"
          " writes")
    assert evaluated["passes"] == 3 and writes["writes"] >= 10, (evaluated, writes)
    assert evaluated["failed"] == 0, evaluated["failures"]
    assert writes["failed"] == 0, writes["failures"]
    assert shared.rows("SELECT journal_mode FROM pragma_journal_mode")[0][0] == "wal"
