"""Jobs: claiming, running, reporting, retrying, the in-process worker, per-cloud locks and the API."""

from __future__ import annotations

import threading
import time

import pytest

from souverain.jobs import locks, registry, services, worker
from souverain.jobs.models import Job, Lease

CALLS: list[int] = []


@registry.register("test.echo")
def _echo(job: Job, reporter: services.Reporter) -> None:
    CALLS.append(job.pk)
    if job.params.get("fail"):
        raise RuntimeError("boom")
    if job.params.get("later"):
        raise services.RetryLater("lock busy")
    reporter.add(done=2)
    if job.params.get("partial"):
        reporter.error("one part failed", cloud="x")


@pytest.mark.django_db
def test_a_job_runs_once_and_records_its_outcome():
    job = services.create_job("test.echo", {"partial": True}, requested_by="alice")
    done = services.run_job(job.pk, worker="w1")
    assert done is not None and done.status == Job.Status.PARTIAL
    assert done.counts == {"done": 2} and done.errors[0]["cloud"] == "x" and done.progress == 1.0
    assert done.worker == "w1" and done.attempts == 1 and done.duration is not None
    # Delivered again (Celery redelivery, a second worker): nothing happens.
    assert services.run_job(job.pk, worker="w2") is None
    assert services.run_job(999_999) is None  # gone: quiet
    assert CALLS.count(job.pk) == 1


@pytest.mark.django_db
def test_failures_and_retries():
    failed = services.run_job(services.create_job("test.echo", {"fail": True}).pk)
    assert failed.status == Job.Status.FAILED and "boom" in failed.errors[0]["error"]
    later = services.create_job("test.echo", {"later": True})
    with pytest.raises(services.RetryLater):
        services.run_job(later.pk)
    later.refresh_from_db()
    assert later.status == Job.Status.QUEUED and "lock busy" in later.message


@pytest.mark.django_db
def test_a_running_job_whose_worker_died_can_be_claimed_again_or_is_recovered():
    job = services.create_job("test.echo")
    assert services.claim(job.pk, "w1") is not None
    assert services.claim(job.pk, "w2") is None  # its worker is alive (fresh heartbeat)
    Job.objects.filter(pk=job.pk).update(heartbeat=job.created - services.job_lease() * 2)
    assert services.claim(job.pk, "w2").attempts == 2
    Job.objects.filter(pk=job.pk).update(heartbeat=job.created - services.job_lease() * 2)
    assert services.recover_interrupted() == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED


@registry.register("test.echo-idempotent", idempotent=True)
def _echo_again(job: Job, reporter: services.Reporter) -> None:
    reporter.add(done=1)


def _expire(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(heartbeat=job.created - services.job_lease() * 2)


@pytest.mark.django_db
def test_an_idempotent_job_is_queued_again_until_it_has_killed_too_many_workers():
    job = services.create_job("test.echo-idempotent")
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        assert services.claim(job.pk, f"w{attempt}").attempts == attempt
        _expire(job)
        assert services.recover_interrupted() == 1
        job.refresh_from_db()
        if attempt < services.MAX_ATTEMPTS:
            assert job.status == Job.Status.QUEUED and f"worker w{attempt} stopped" in job.message
    assert job.status == Job.Status.FAILED and f"gave up after {services.MAX_ATTEMPTS} attempts" in job.message
    assert services.recover_interrupted() == 0


@pytest.mark.django_db
def test_a_worker_that_lost_its_lease_writes_nothing_more():
    job = services.create_job("test.echo-idempotent")
    reporter = services.Reporter(services.claim(job.pk, "stalled"))
    assert reporter.beat()
    _expire(job)
    services.recover_interrupted()
    taken_over = services.claim(job.pk, "healthy")
    assert taken_over is not None and taken_over.attempts == 2
    # The stalled worker wakes up: its progress, beat and outcome are refused, the new claim's row is intact.
    reporter.add(done=99)
    assert not reporter.beat() and reporter.lost
    reporter.finish(Job.Status.FAILED)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.worker == "healthy" and job.counts == {}


def test_unknown_kinds_and_bad_params_are_refused():
    with pytest.raises(ValueError, match="unknown job kind"):
        registry.get("nope")


@pytest.mark.django_db
def test_the_api_starts_jobs_for_operators_only(api_as, monkeypatch):
    monkeypatch.setattr(worker, "wake", lambda: None)
    ops = api_as("operator-ops")
    response = ops.post("/api/jobs/", {"kind": "test.echo", "params": {}}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["requested_by"] == "operator-ops"
    assert ops.get(f"/api/jobs/{body['id']}/").json()["kind"] == "test.echo"
    assert ops.post("/api/jobs/", {"kind": "nope"}, format="json").status_code == 400
    bad = ops.post("/api/jobs/", {"kind": "inventory.sync", "params": {"clouds": ["nowhere"]}}, format="json")
    assert bad.status_code == 400 and "unknown cloud" in str(bad.json())
    for role in ("auditor", "tenant-admin"):
        assert api_as(role).post("/api/jobs/", {"kind": "test.echo"}, format="json").status_code == 403
    assert api_as("auditor").get("/api/jobs/").status_code == 200
    assert api_as("tenant-admin").get("/api/jobs/").status_code == 403


@pytest.mark.django_db
def test_an_auditor_bound_to_a_tenant_sees_the_jobs_about_its_objects_only(role_users, tenants):
    from rest_framework.test import APIClient

    from souverain.core.roles import Role
    from souverain.tenancy.models import Membership

    estate_wide = services.create_job("test.echo")
    ours = services.create_job("test.echo", tenant=tenants["home"])
    theirs = services.create_job("test.echo", tenant=tenants["foreign"])
    bound = role_users["auditor"].__class__.objects.create_user(username="bound-auditor")
    Membership.objects.create(user=bound, role=Role.AUDITOR, tenant=tenants["home"])
    client = APIClient()
    client.force_authenticate(bound)
    listed = client.get("/api/jobs/").json()["results"]
    assert [(job["id"], job["tenant"]) for job in listed] == [(ours.pk, "ministere")]
    for hidden in (estate_wide, theirs):
        assert client.get(f"/api/jobs/{hidden.pk}/").status_code == 404
    unbound = APIClient()
    unbound.force_authenticate(role_users["auditor"])
    assert {job["id"] for job in unbound.get("/api/jobs/").json()["results"]} == {estate_wide.pk, ours.pk, theirs.pk}


@pytest.mark.django_db(transaction=True)
def test_the_in_process_worker_runs_queued_jobs():
    thread = worker.start_in_process_worker(poll_interval=0.2, schedule=False)
    try:
        job = services.submit("test.echo")
        finished = services.wait_for(job.pk, timeout=20, interval=0.1)
        assert finished.status == Job.Status.SUCCEEDED and thread is not None and thread.is_alive()
    finally:
        worker.stop_in_process_worker()


@pytest.mark.django_db(transaction=True)
def test_database_leases_exclude_each_other_and_expire():
    spans: list[tuple[float, float]] = []

    def hold() -> None:
        with locks.held("cloud:x", wait=10):
            start = time.monotonic()
            time.sleep(0.3)
            spans.append((start, time.monotonic()))

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans.sort()
    assert len(spans) == 3 and all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))

    with locks.held("cloud:y", wait=1):
        with pytest.raises(locks.LockTimeout, match="cloud:y is held by"):
            with locks.held("cloud:y", wait=0.3):
                pass
    # A holder that died leaves an expired lease: the next one takes it.
    Lease.objects.filter(key="cloud:y").update(holder="dead-worker", expires="2000-01-01T00:00:00Z")
    with locks.held("cloud:y", wait=1) as held:
        assert held.backend == "database"
