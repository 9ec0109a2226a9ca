"""Scale mode for real: PostgreSQL, Redis, and two ``celery worker`` processes started here.

Two syncs of the same cloud requested at once go to the two workers; the per-cloud Redis lock makes one
wait for the other. Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/souverain pytest -m scale``.

Redis: a ``redis-server`` of this module's own, on a free port, started here and stopped afterwards (only when
there is no ``redis-server`` to start, the one on 127.0.0.1:6379, in a database of its own). A shared Redis made
these tests flaky: ``make test`` runs the SQLite and PostgreSQL passes side by side, and the SQLite pass, which skips
these tests, still set up the module's Redis fixture first (module scope before function scope) - it flushed the
PostgreSQL pass's queue and locks, or stopped the server it had started under the other pass's workers. That began
with the side-by-side passes (c41c0bf), three minutes before the post-sync jobs (capacity, exposure check), which
were blamed (see docs/performance.md, "Scale mode: workers and queues").
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from souverain.estate.models import Cloud, LegalEntity, Region
from souverain.inventory.models import Resource
from souverain.inventory.services import request_sync
from souverain.jobs import services as jobs
from souverain.jobs.models import Job

_ON_POSTGRESQL = connection.vendor == "postgresql"
pytestmark = [
    pytest.mark.scale,
    pytest.mark.django_db(transaction=True),
    # Decided before any fixture: the SQLite pass must not even set up this module's Redis.
    pytest.mark.skipif(not _ON_POSTGRESQL, reason="scale mode runs on PostgreSQL: "
                       "DATABASE_URL=postgres://postgres@127.0.0.1:5432/souverain pytest -m scale"),
]

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED_REDIS_PORT = 6379
SHARED_REDIS_DB = 11
#: Seconds for two workers to come up: Django and Celery import in each, ~40 s on a machine with load 7, over 90 s
#: at load 20.
WORKERS_START = 240


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The broker URL: a redis-server of this module's own (nobody else flushes it, stops it or takes its tasks)."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        assert _listening(SHARED_REDIS_PORT), "no redis-server to start and no Redis on 127.0.0.1:6379 " \
            "(apt-get install redis-server)"
        url = f"redis://127.0.0.1:{SHARED_REDIS_PORT}/{SHARED_REDIS_DB}"
        redis.Redis.from_url(url).flushdb()  # a database of our own on the shared server
        yield url
        return
    port = _free_port()
    started = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                                "no", "--dir", str(tmp_path_factory.mktemp("redis"))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not _listening(port):
            assert started.poll() is None, f"redis-server exited at start ({started.returncode}), port {port}"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        started.terminate()
        started.wait(10)


@pytest.fixture
def postgres_url() -> str:
    if connection.vendor != "postgresql":
        pytest.skip("scale mode runs on PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/souverain "
                    "pytest -m scale")
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def workers(postgres_url: str, redis_server: str, tmp_path: Path) -> Iterator[list[subprocess.Popen]]:
    """Two Celery workers (one task at a time each), on this test's database and Redis database."""
    env = {**os.environ, "DATABASE_URL": postgres_url, "CELERY_BROKER_URL": redis_server,
           "SOUVERAIN_DATA_DIR": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
           "DJANGO_SETTINGS_MODULE": "souverain.project.settings", "SOUVERAIN_SYNC_LOCK_WAIT": "120"}
    celery = str(Path(sys.executable).with_name("celery"))
    procs = []
    for name in ("scale-a", "scale-b"):
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process below
        procs.append(subprocess.Popen(
            [celery, "-A", "souverain.project.celery", "worker", "-n", f"{name}@%h", "--pool", "solo",
             "--include", "scale_fake_provider", "--without-gossip", "--without-mingle", "-l", "info"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
    control = Celery(broker=redis_server)
    try:
        deadline = time.monotonic() + WORKERS_START
        while len(control.control.ping(timeout=1.0)) < 2:
            dead = [p.args for p in procs if p.poll() is not None]
            assert not dead, f"a worker died at start: {dead}; see {tmp_path}"
            assert time.monotonic() < deadline, f"the workers did not come up; logs in {tmp_path}"
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for name in ("scale-a", "scale-b"):
            print(f"--- {name} (last lines)\n" + (tmp_path / f"{name}.log").read_text()[-3000:])


def _settle(timeout: float) -> None:
    """Wait until no job has been queued or running for a second (jobs that end may queue others)."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while True:
        busy = list(Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).values_list("pk", "kind"))
        now = time.monotonic()
        quiet_since = (quiet_since or now) if not busy else None
        if quiet_since is not None and now - quiet_since >= 1.0:
            return
        assert now < deadline, f"the set-up's jobs did not end: {busy}"
        time.sleep(0.2)


def test_two_workers_never_sync_the_same_cloud_at_once(workers, redis_server, settings, monkeypatch):
    import scale_fake_provider  # noqa: F401 - registers the provider in this process too

    from souverain.project.celery import app

    settings.CELERY_BROKER_URL = redis_server
    monkeypatch.setattr(app.conf, "broker_url", redis_server)
    operator = LegalEntity.objects.create(slug="scale-op", name="Scale operator", country="FR")
    cloud = Cloud.objects.create(slug="busy", name="Busy", kind="scalefake", clouds_yaml_entry="busy",
                                 operator=operator)
    Region.objects.create(cloud=cloud, slug="r1", name="r1")
    # Whatever the set-up queued (and what that queued in turn) ends first, so that the two syncs below meet two
    # idle workers, one each: a worker busy with something else is not what this test is about.
    _settle(timeout=180)

    first = request_sync(["busy"], full=True, requested_by="scale-test")
    second = request_sync(["busy"], full=True, requested_by="scale-test")
    done = [jobs.wait_for(job.pk, timeout=180) for job in (first, second)]

    assert [j.status for j in done] == ["succeeded", "succeeded"], [(j.status, j.errors) for j in done]
    assert len({j.worker.split(":")[0] for j in done}) == 2, "both jobs ran on one worker"
    spans = sorted((j.detail["busy/r1"]["started_at"], j.detail["busy/r1"]["finished_at"]) for j in done)
    assert spans[0][1] <= spans[1][0], f"the two syncs of the same cloud overlapped: {spans}"
    assert all(j.detail["busy/r1"]["lock"] == "redis" for j in done)
    assert max(j.detail["busy/r1"]["lock_waited"] for j in done) > 1.0  # one waited for the other
    assert Resource.objects.filter(cloud=cloud).count() == 2 * 10 * 25
    import redis

    assert not redis.Redis.from_url(redis_server).exists("souverain:inventory:cloud:busy")  # released
    # The post-sync jobs ran on the same workers and ended well: a capacity sync after the syncs (the fake provider
    # reports no capacity: "unsupported" regions, not a failure).
    _settle(timeout=60)
    capacity = list(Job.objects.filter(kind="capacity.sync").values_list("status", flat=True))
    assert capacity and set(capacity) == {"succeeded"}, capacity


def test_a_job_delivered_twice_runs_once(workers, redis_server, tmp_path):
    job = jobs.create_job("inventory.sync", {"clouds": [], "full": False, "kinds": ["server"]})
    sender = Celery(broker=redis_server)
    deliveries = [sender.send_task("souverain.jobs.tasks.run_job", args=[job.pk]).id for _ in range(2)]
    finished = jobs.wait_for(job.pk, timeout=60)
    # Wait until the workers have finished BOTH deliveries (their log says so), not a fixed time: then the
    # second has certainly found the job taken, and what each returned is known.
    outcomes: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while len(outcomes) < 2:
        logs = "".join((tmp_path / f"{name}.log").read_text(errors="replace") for name in ("scale-a", "scale-b"))
        for task_id in deliveries:
            done = re.search(rf"run_job\[{task_id}\] succeeded in [0-9.]+s: (.*)", logs)
            if done:
                outcomes[task_id] = done.group(1).strip()
        assert time.monotonic() < deadline, f"the deliveries did not both finish: {outcomes}; logs in {tmp_path}"
        time.sleep(0.2)
    assert sorted(outcomes.values()) == ["'succeeded'", "None"]  # one ran the job, the other found it taken
    finished.refresh_from_db()
    assert finished.status == "succeeded" and finished.attempts == 1
    assert Job.objects.count() == 1
