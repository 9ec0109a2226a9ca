"""A real kill -9 of the worker during a create, then a new worker: one server on the cloud, the request done.

Everything Souverain runs here runs in processes of its own, on an SQLite database of this test's making (set up
as ``souverain setup`` does, with the example estate): the embedded worker (``start_in_process_worker``) in a
subprocess, which is SIGKILLed as soon as the cloud lists the server it asked for - the worker is then waiting
for it to become ACTIVE. A second worker's recovery timer finds the job's lease expired, queues the job again
(``provisioning.execute`` is idempotent), and the second attempt adopts the server and the volume the first one
made. The cloud's raw listing (in a scratch project of the test's own, swept afterwards) must then hold exactly one
server and one volume.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from souverain.connectors.openstack import OpenStackConnector

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
LEASE = 3  # seconds: the second worker takes over soon after the first stops beating

SEED = """
import json, sys
import django
django.setup()
from souverain.estate.models import Cloud, Region
from souverain.inventory.models import ProjectMapping
from souverain.jobs import services as jobs
from souverain.provisioning import execution
from souverain.provisioning.models import ServiceRequest
from souverain.tenancy.models import Tenant

project, spec = sys.argv[1], json.loads(sys.argv[2])
cloud = Cloud.objects.get(slug="sovereign")
cloud.clouds_yaml_entry = "sovereign-admin"
cloud.save()
tenant = Tenant.objects.create(slug="resume", name="Resume Corp")
ProjectMapping.objects.create(cloud=cloud, project_id=project, tenant=tenant)
request = ServiceRequest.objects.create(tenant=tenant, requester_name="alice", kind="server", name="resume-1",
                                        spec=spec, region=Region.objects.get(cloud=cloud, slug="fr-paris-1"),
                                        status=ServiceRequest.Status.APPROVED, effective_classes=["personal"])
job = jobs.create_job(execution.EXECUTE_JOB, {"request": request.pk}, requested_by="alice", tenant=tenant)
print(json.dumps({"request": request.pk, "job": job.pk, "ref": execution.request_ref(request)}))
"""

WORKER = """
import time
import django
django.setup()
from souverain.jobs.worker import start_in_process_worker
start_in_process_worker(poll_interval=0.2, schedule=False)
while True:
    time.sleep(3600)
"""

STATE = """
import json, sys
import django
django.setup()
from souverain.jobs.models import Job
from souverain.provisioning.models import ServiceRequest
request = ServiceRequest.objects.get(pk=int(sys.argv[1]))
job = Job.objects.get(pk=int(sys.argv[2]))
print(json.dumps({"status": request.status, "detail": request.status_detail, "created": request.created_objects,
                  "steps": list(request.events.values_list("step", flat=True)), "job": job.status,
                  "attempts": job.attempts, "message": job.message}))
"""


@pytest.fixture(scope="session", params=["sovereign"])
def cloud_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def souverain_env(clouds_yaml: Path) -> dict[str, str]:
    data = tempfile.mkdtemp(prefix="souverain-resume-")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "souverain.project.settings",
           "DATABASE_URL": f"sqlite:///{data}/db.sqlite3", "SOUVERAIN_DATA_DIR": data,
           "OS_CLIENT_CONFIG_FILE": str(clouds_yaml), "SOUVERAIN_JOB_LEASE": str(LEASE),
           "SOUVERAIN_ADMIN_PASSWORD": "Resume-test-pass-4821!", "PYTHONPATH": str(ROOT)}
    env.pop("CELERY_BROKER_URL", None)
    setup = subprocess.run([str(Path(PYTHON).parent / "souverain"), "setup"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return env


def _python(env: dict[str, str], code: str, *args: str) -> Any:
    done = subprocess.run([PYTHON, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([PYTHON, "-c", WORKER], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def test_a_worker_killed_mid_create_is_resumed_by_another_without_a_duplicate(
        scratch: OpenStackConnector, scratch_id: str, souverain_env: dict[str, str], tmp_path: Path) -> None:
    spec = {"flavor": "m1.nano", "image": "testbed-tiny", "network": "shared", "volume_gb": 1, "floating_ip": True}
    seeded = _python(souverain_env, SEED, scratch_id, json.dumps(spec))
    mine = {"tags": f"souverain:request={seeded['ref']}"}
    workers: list[subprocess.Popen[bytes]] = []
    try:
        first = _worker(souverain_env, tmp_path / "worker-1.log")
        workers.append(first)
        deadline = time.monotonic() + 180
        while not scratch._t.get_json("compute", "/servers/detail", mine)["servers"]:
            assert first.poll() is None, (tmp_path / "worker-1.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the first worker never asked for the server"
            time.sleep(0.1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        at_kill = _python(souverain_env, STATE, str(seeded["request"]), str(seeded["job"]))
        assert at_kill["status"] == "running" and at_kill["job"] == "running", at_kill  # killed mid-create

        second = _worker(souverain_env, tmp_path / "worker-2.log")
        workers.append(second)
        deadline = time.monotonic() + 300
        while (state := _python(souverain_env, STATE, str(seeded["request"]), str(seeded["job"])))["status"] == \
                "running":
            assert second.poll() is None, (tmp_path / "worker-2.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"the request did not end: {state}"
            time.sleep(1)
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(20)

    assert state["status"] == "done", state
    assert state["job"] == "succeeded" and state["attempts"] == 2, state
    assert "running" in state["steps"] and state["steps"][-1] == "done"
    servers = scratch._t.get_json("compute", "/servers/detail", {})["servers"]  # the project's raw listing
    assert len(servers) == 1 and servers[0]["status"] == "ACTIVE"
    assert len(list(scratch.volumes())) == 1 and len(list(scratch.floating_ips())) == 1
    adopted = {o["kind"]: o["adopted"] for o in state["created"]}
    assert adopted == {"server": True, "volume": True, "floating_ip": False}
    assert {o["id"] for o in state["created"] if o["kind"] == "server"} == {servers[0]["id"]}
