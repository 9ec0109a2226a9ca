"""Creating servers through Souverain vs straight through openstacksdk, on the same test-bed cloud, in one run.

Run:  .venv/bin/python bench/provision.py [--servers 20] [--concurrency 4] [--cloud sovereign] [--keep]

Both sides create ``--servers`` servers (the smallest flavor, the test-bed's image, the shared network; no
volume, no floating IP) in a project made for the bench, ``--concurrency`` at a time, each client looping
"create one, wait until it is ACTIVE, next":

- openstacksdk (first; its servers are deleted before Souverain's turn, untimed, so both start from an empty
  project): ``conn.create_server(name, image=, flavor=, network=, wait=True, auto_ip=False)`` from threads,
  the way a script would do it. Per server: from the call to its return.
- Souverain: ``POST /api/requests/`` as a tenant member (Django's test client in this process: the API's own
  view, serializer, gate with placement and quotas, no approval rule), the job ``provisioning.execute`` run by
  ``--concurrency`` embedded workers (``start_in_process_worker``) in processes of their own, which check the
  cloud's quotas, create the server with its labels, wait until ACTIVE, write it into the inventory and hand it
  to compliance (whose pass is queued to the same workers, as in production). Per server: from the POST to the
  request's ``done``, as read from the database every 100 ms.

The database is the bench's own (an SQLite file in a directory made for it, set up as ``souverain setup`` does
with the example estate: ``bench/benchdb.py``); the bench project and everything in it are deleted at the end
unless ``--keep``. Prints per-server medians and the overhead at the median, the totals and their ratio, and the
load average beside each.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import benchdb  # noqa: E402

REGIONS = {"sovereign": "fr-paris-1", "international": "eu-west-1"}
WORKER = """
import time
import django
django.setup()
from souverain.jobs.worker import start_in_process_worker
start_in_process_worker(poll_interval=0.25, schedule=False)
while True:
    time.sleep(3600)
"""


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cloud", choices=sorted(REGIONS), default="sovereign")
    parser.add_argument("--keep", action="store_true", help="keep the bench project and database")
    args = parser.parse_args()
    clouds_yaml = os.environ.get("OS_CLIENT_CONFIG_FILE") or str(ROOT / ".testbed" / "clouds.yaml")
    os.environ["OS_CLIENT_CONFIG_FILE"] = clouds_yaml

    data = benchdb.temp_data_dir()
    url = benchdb.checked_url(f"sqlite:///{data}/db.sqlite3")
    env = {**os.environ, "DATABASE_URL": url, "SOUVERAIN_DATA_DIR": data, "DJANGO_SETTINGS_MODULE":
           "souverain.project.settings", "SOUVERAIN_ADMIN_PASSWORD": f"Bench-{uuid.uuid4().hex}", "PYTHONPATH":
           str(ROOT), "SOUVERAIN_SYNC_AT_START": "0"}
    env.pop("CELERY_BROKER_URL", None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SOUVERAIN_DATA_DIR", "DJANGO_SETTINGS_MODULE")})
    os.environ.pop("CELERY_BROKER_URL", None)
    say(f"database {url}; setting it up (souverain setup, example estate)")
    setup = subprocess.run([str(Path(sys.executable).parent / "souverain"), "setup"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    if setup.returncode:
        raise SystemExit(setup.stdout + setup.stderr)

    from souverain.connectors import get_connector

    admin = get_connector("openstack", cloud=f"{args.cloud}-admin")
    project = admin.create_project(f"bench-prov-{uuid.uuid4().hex[:6]}", description="bench/provision.py")
    identity = admin.connection.identity
    member = identity.get("/roles", params={"name": "member"}).json()["roles"][0]["id"]
    identity.put(f"/projects/{project['id']}/users/{admin.connection.current_user_id}/roles/{member}")
    room = 2 * args.servers + 10
    admin.set_quotas(project["id"], instances=room, cores=room * 2, ram=room * 2048, port=room * 2)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        results = run(args, env, project["id"], workers, data)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(30)
        if not args.keep:
            say("cleaning up the bench project")
            cleanup(args.cloud, project["id"], admin)
            shutil.rmtree(data, ignore_errors=True)
        else:
            say(f"kept project {project['id']} and {data}")
    print(json.dumps(results, indent=2))


def run(args: argparse.Namespace, env: dict[str, str], project_id: str, workers: list[Any],
        data: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from souverain.core.roles import Role
    from souverain.estate.models import Cloud
    from souverain.inventory.models import ProjectMapping
    from souverain.inventory.services import request_sync
    from souverain.jobs import services as jobs
    from souverain.provisioning.models import ServiceRequest
    from souverain.tenancy.models import Membership, Tenant

    Cloud.objects.filter(slug=args.cloud).update(clouds_yaml_entry=f"{args.cloud}-admin")
    cloud = Cloud.objects.get(slug=args.cloud)
    tenant = Tenant.objects.create(slug="bench", name="Bench")
    ProjectMapping.objects.create(cloud=cloud, project_id=project_id, tenant=tenant)
    user = get_user_model().objects.create_user(username="bench-member", password=uuid.uuid4().hex)
    Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=tenant)
    synced = jobs.run_job(request_sync([args.cloud], full=True, kinds=["flavor", "image", "network"]).pk)
    say(f"flavors, images and networks synced ({synced.status if synced else '?'})")
    from souverain.connectors import get_connector

    conn = get_connector("openstack", cloud=f"{args.cloud}-admin")
    flavor = min((f for f in conn.flavors() if f["name"].startswith("m1.")), key=lambda f: f["ram"])
    image = next(i for i in conn.images() if i["name"] == "testbed-tiny")
    region = f"{args.cloud}/{REGIONS[args.cloud]}"

    for index in range(args.concurrency):
        with open(Path(data) / f"worker-{index}.log", "ab") as out:
            workers.append(subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=out,
                                            stderr=subprocess.STDOUT))
    time.sleep(3)  # the workers' imports and start-up, not part of anyone's figure

    # --- openstacksdk -------------------------------------------------------------------------------------
    import openstack

    entry = copy.deepcopy(openstack.config.OpenStackConfig().get_one(cloud=f"{args.cloud}-admin").config["auth"])
    for key in ("project_name", "project_domain_name", "project_domain_id"):
        entry.pop(key, None)
    entry["project_id"] = project_id
    sdk_times: list[float] = []
    local = threading.local()

    def sdk_one(index: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = openstack.connect(auth=entry, region_name=REGIONS[args.cloud], interface="public",
                                           identity_api_version="3", load_yaml_config=False, load_envvars=False)
        started = time.perf_counter()
        local.conn.create_server(f"bench-sdk-{index}", image=image["id"], flavor=flavor["id"], network="shared",
                                 wait=True, auto_ip=False, timeout=600)
        sdk_times.append(time.perf_counter() - started)

    say(f"openstacksdk: {args.servers} servers, {args.concurrency} at a time; {load()}")
    sdk_load_before = load()
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(sdk_one, range(args.servers)))
    sdk_total = time.perf_counter() - started
    sdk_load_after = load()
    say(f"openstacksdk: {sdk_total:.1f} s; {sdk_load_after}")

    # The openstacksdk servers are deleted before Souverain's turn, so that both start from an empty project: the
    # test-bed's one fake hypervisor (and Nova's listings) slow down as servers pile up on it.
    listing = openstack.connect(auth=copy.deepcopy(entry), region_name=REGIONS[args.cloud], interface="public",
                                identity_api_version="3", load_yaml_config=False, load_envvars=False)
    sdk_made = [s for s in listing.compute.servers() if s.name.startswith("bench-sdk-")]
    counts = {"sdk": len(sdk_made)}
    for server in sdk_made:
        listing.compute.delete_server(server, ignore_missing=True)
    deadline = time.monotonic() + 900
    while any(s.name.startswith("bench-sdk-") for s in listing.compute.servers()) and time.monotonic() < deadline:
        time.sleep(2)
    say(f"openstacksdk's servers deleted; {load()}")

    # --- Souverain ----------------------------------------------------------------------------------------
    souverain_times: list[float] = []
    post_times: list[float] = []
    failures: list[str] = []

    def souverain_one(index: int) -> None:
        from django.db import connection

        client = APIClient()
        client.force_authenticate(user)
        begun = time.perf_counter()
        response = client.post("/api/requests/", {
            "kind": "server", "name": f"bench-sv-{index}", "region": region,
            "spec": {"flavor": flavor["name"], "image": image["name"], "network": "shared"}}, format="json")
        post_times.append(time.perf_counter() - begun)
        if response.status_code != 201:
            failures.append(f"{index}: HTTP {response.status_code} {response.content[:300]!r}")
            return
        pk = response.json()["id"]
        deadline = time.monotonic() + 600
        while True:
            state = ServiceRequest.objects.filter(pk=pk).values_list("status", "status_detail").first()
            if state and state[0] in ServiceRequest.FINAL:
                break
            if time.monotonic() > deadline:
                failures.append(f"{index}: still {state} after 600 s")
                return
            time.sleep(0.1)
        connection.close()
        if state[0] != ServiceRequest.Status.DONE:
            failures.append(f"{index}: {state[0]} {state[1][:300]}")
            return
        souverain_times.append(time.perf_counter() - begun)

    say(f"Souverain: {args.servers} servers, {args.concurrency} at a time; {load()}")
    sv_load_before = load()
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(souverain_one, range(args.servers)))
    sv_total = time.perf_counter() - started
    sv_load_after = load()
    say(f"Souverain: {sv_total:.1f} s; {sv_load_after}; failures: {len(failures)}")
    for failure in failures[:10]:
        say(f"  {failure}")

    # Where Souverain's time goes, from the requests' own times: the POST (gate included), waiting for a worker,
    # the run until ACTIVE, and the run's end (inventory, timeline) after the last progress step.
    from souverain.jobs.models import Job
    from souverain.provisioning.models import RequestEvent

    done = list(ServiceRequest.objects.filter(status=ServiceRequest.Status.DONE, name__startswith="bench-sv-"))
    queued = [(r.started_at - r.created).total_seconds() for r in done if r.started_at]
    running = [(r.finished_at - r.started_at).total_seconds() for r in done if r.started_at and r.finished_at]
    active_at = {e.request_id: e.at for e in RequestEvent.objects.filter(
        request__in=done, step=RequestEvent.Step.PROGRESS, message__endswith=" ACTIVE")}
    tail = [(r.finished_at - active_at[r.pk]).total_seconds() for r in done if r.pk in active_at and r.finished_at]
    passes = [(j.finished - j.started).total_seconds() for j in Job.objects.filter(kind="policy.compliance")
              if j.started and j.finished]
    compliance = len(passes)
    breakdown = {"post_s": _median(post_times), "queued_s": _median(queued), "run_s": _median(running),
                 "after_active_s": _median(tail), "compliance_passes": compliance,
                 "compliance_seconds_total": round(sum(passes), 1)}
    say(f"Souverain, medians: POST {breakdown['post_s']} s, waiting for a worker {breakdown['queued_s']} s, "
        f"running {breakdown['run_s']} s (of which after ACTIVE {breakdown['after_active_s']} s); "
        f"{compliance} compliance passes took {sum(passes):.1f} s of the workers' time")

    # What each side created, from the cloud's raw listing of the project.
    counts["souverain"] = sum(s.name.startswith("bench-sv-") for s in listing.compute.servers())

    sdk_median = statistics.median(sdk_times) if sdk_times else float("nan")
    sv_median = statistics.median(souverain_times) if souverain_times else float("nan")
    results = {
        "servers": args.servers, "concurrency": args.concurrency, "cloud": args.cloud,
        "openstacksdk": {"median_s": round(sdk_median, 3), "total_s": round(sdk_total, 2),
                         "load_before": sdk_load_before, "load_after": sdk_load_after},
        "souverain": {"median_s": round(sv_median, 3), "total_s": round(sv_total, 2), "failures": len(failures),
                      "breakdown": breakdown,
                      "load_before": sv_load_before, "load_after": sv_load_after},
        "overhead_per_server_at_median_ms": round((sv_median - sdk_median) * 1000),
        "total_ratio": round(sv_total / sdk_total, 2),
        "servers_on_the_cloud": counts,
    }
    say(f"per server at the median: openstacksdk {sdk_median:.2f} s, Souverain {sv_median:.2f} s "
        f"(overhead {results['overhead_per_server_at_median_ms']} ms); totals {sdk_total:.1f} s vs {sv_total:.1f} s "
        f"(ratio {results['total_ratio']}); {load()}")
    return results


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def cleanup(cloud: str, project_id: str, admin: Any) -> None:
    import openstack

    entry = copy.deepcopy(openstack.config.OpenStackConfig().get_one(cloud=f"{cloud}-admin").config["auth"])
    for key in ("project_name", "project_domain_name", "project_domain_id"):
        entry.pop(key, None)
    entry["project_id"] = project_id
    conn = openstack.connect(auth=entry, region_name=REGIONS[cloud], interface="public", identity_api_version="3",
                             load_yaml_config=False, load_envvars=False)
    deadline = time.monotonic() + 600
    while servers := list(conn.compute.servers()):
        for server in servers:
            conn.compute.delete_server(server, ignore_missing=True)
        if time.monotonic() > deadline:
            say(f"{len(servers)} servers left in project {project_id}")
            return
        time.sleep(2)
    for fip in list(conn.network.ips(project_id=project_id)):
        conn.network.delete_ip(fip, ignore_missing=True)
    admin.delete_project(project_id)


if __name__ == "__main__":
    main()
