"""Creating servers through Souverain vs straight through openstacksdk, on the same test-bed cloud, in one run.

Run:  .venv/bin/python bench/provision.py [--servers 20] [--concurrency 4] [--cloud sovereign] [--keep]
                                         [--worker-processes 1] [--timeline]

Both sides create ``--servers`` servers (the smallest flavor, the test-bed's image, the shared network; no
volume, no floating IP) in a project made for the bench, ``--concurrency`` at a time, each client looping
"create one, wait until it is ACTIVE, next":

- openstacksdk (first; its servers are deleted before Souverain's turn, untimed, so both start from an empty
  project): ``conn.create_server(name, image=, flavor=, network=, wait=True, auto_ip=False)`` from threads,
  the way a script would do it. Per server: from the call to its return.
- Souverain: ``POST /api/requests/`` as a tenant member (Django's test client in this process: the API's own
  view, serializer, gate with placement and quotas, no approval rule), the job ``provisioning.execute`` run by
  the embedded worker in a process of its own, as ``souverain run`` starts it, running ``--concurrency`` jobs at
  once (``SOUVERAIN_WORKER_CONCURRENCY``; ``--worker-processes`` starts more such processes, each with
  ``--concurrency / --worker-processes`` slots), which checks the cloud's quotas, creates the server with its
  labels, waits until ACTIVE, writes it into the inventory and hands it to compliance (whose pass is queued to
  the same worker, as in production). Per server: from the POST to the request's ``done``, as read from the
  database every 100 ms.

The timeline of each request, from its own rows: submitted (the request's creation, in the POST), job started
(the executor took it), create sent (the cloud answered the create call), ACTIVE seen, inventoried (the request
``done``, after the inventory write), and when the client saw it done. The medians of the gaps between them
say where the time goes; ``--timeline`` prints every request's row.

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
#: The steps of a request's timeline, from its own rows: (name, how to read it).
STEPS = ("POST sent", "submitted", "job started", "create sent", "ACTIVE seen", "inventoried", "client saw done")


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
    parser.add_argument("--worker-processes", type=int, default=1,
                        help="embedded worker processes sharing the --concurrency slots (default 1, as souverain run)")
    parser.add_argument("--timeline", action="store_true", help="print every request's timeline")
    args = parser.parse_args()
    data, env = bench_database()

    from souverain.connectors import get_connector

    admin = get_connector("openstack", cloud=f"{args.cloud}-admin")
    room = 2 * args.servers + 10
    project = bench_project(admin, f"bench-prov-{uuid.uuid4().hex[:6]}", "bench/provision.py",
                            instances=room, cores=room * 2, ram=room * 2048, port=room * 2)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        results = run(args, env, project["id"], workers, data)
    finally:
        stop_workers(workers)
        if not args.keep:
            say("cleaning up the bench project")
            cleanup(args.cloud, project["id"], admin)
            shutil.rmtree(data, ignore_errors=True)
        else:
            say(f"kept project {project['id']} and {data}")
    print(json.dumps(results, indent=2))


def bench_database() -> tuple[str, dict[str, str]]:
    """A new SQLite database in a directory of its own, set up as ``souverain setup`` does (example estate); its
    directory and the environment the worker processes need. This process's own environment points at it."""
    os.environ["OS_CLIENT_CONFIG_FILE"] = os.environ.get("OS_CLIENT_CONFIG_FILE") or str(ROOT / ".testbed" /
                                                                                       "clouds.yaml")
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
    return data, env


def bench_project(admin: Any, name: str, description: str, **quotas: int) -> dict[str, Any]:
    """A cloud project for the bench, with the admin account as a member (Souverain provisions with it) and the
    cloud's own quotas given."""
    project = admin.create_project(name, description=description)
    identity = admin.connection.identity
    member = identity.get("/roles", params={"name": "member"}).json()["roles"][0]["id"]
    identity.put(f"/projects/{project['id']}/users/{admin.connection.current_user_id}/roles/{member}")
    if quotas:
        admin.set_quotas(project["id"], **quotas)
    return project


def start_workers(env: dict[str, str], data: str, concurrency: int, processes: int = 1,
                  tag: str = "") -> list[subprocess.Popen[bytes]]:
    """Embedded worker processes (schedule off) sharing ``concurrency`` job slots."""
    workers = []
    processes = max(1, min(processes, concurrency))
    for index in range(processes):
        slots = concurrency // processes + (index < concurrency % processes)
        with open(Path(data) / f"worker{tag}-{index}.log", "ab") as out:
            workers.append(subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, stdout=out,
                                            env={**env, "SOUVERAIN_WORKER_CONCURRENCY": str(slots)},
                                            stderr=subprocess.STDOUT))
    return workers


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

    workers += start_workers(env, data, args.concurrency, args.worker_processes)
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
    sdk_boot = cloud_boot_times(listing, "bench-sdk-")
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
    seen_done: dict[int, float] = {}  # request id -> wall-clock time the client saw it done
    posted_at: dict[int, float] = {}  # request id -> wall-clock time its POST was sent
    failures: list[str] = []

    def souverain_one(index: int) -> None:
        from django.db import connection

        client = APIClient()
        client.force_authenticate(user)
        sent = time.time()
        begun = time.perf_counter()
        response = client.post("/api/requests/", {
            "kind": "server", "name": f"bench-sv-{index}", "region": region,
            "spec": {"flavor": flavor["name"], "image": image["name"], "network": "shared"}}, format="json")
        post_times.append(time.perf_counter() - begun)
        if response.status_code != 201:
            failures.append(f"{index}: HTTP {response.status_code} {response.content[:300]!r}")
            return
        pk = response.json()["id"]
        posted_at[pk] = sent
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
        seen_done[pk] = time.time()

    say(f"Souverain: {args.servers} servers, {args.concurrency} at a time; {load()}")
    sv_load_before = load()
    bench_started = time.time()
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(souverain_one, range(args.servers)))
    sv_total = time.perf_counter() - started
    sv_load_after = load()
    say(f"Souverain: {sv_total:.1f} s; {sv_load_after}; failures: {len(failures)}")
    for failure in failures[:10]:
        say(f"  {failure}")

    # Where Souverain's time goes: each request's timeline from its own rows (see the module's docstring).
    timeline = timelines(seen_done, posted_at, t0=bench_started)
    breakdown = phases(timeline, post_times)
    say("Souverain, medians: " + ", ".join(f"{k} {v} s" for k, v in breakdown.items() if k.endswith("_s")) +
        f"; {breakdown['compliance_passes']} compliance passes took {breakdown['compliance_seconds_total']} s "
        f"of the worker's time, at most {breakdown['compliance_at_once']} at once")
    if args.timeline:
        say("request  " + "  ".join(f"{step:>15}" for step in STEPS) + "   (s from the start of Souverain's turn)")
        for pk, row in sorted(timeline.items()):
            say(f"{pk:>7}  " + "  ".join(f"{row.get(step, float('nan')):>15.2f}" for step in STEPS))
    souverain_boot = cloud_boot_times(listing, "bench-sv-")
    breakdown["cloud_boot_median_s"] = _median(souverain_boot)
    say(f"the cloud's own build time (Nova's created → launched_at), median: openstacksdk's servers "
        f"{_median(sdk_boot)} s, Souverain's {_median(souverain_boot)} s")

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


def timelines(seen_done: dict[int, float], posted_at: dict[int, float], *, t0: float) -> dict[int, dict[str, float]]:
    """request id -> {step: seconds since t0} for the requests the client saw done."""
    from souverain.provisioning.models import RequestEvent, ServiceRequest

    rows: dict[int, dict[str, float]] = {}
    for request in ServiceRequest.objects.filter(pk__in=list(seen_done)):
        row = {"submitted": request.created.timestamp() - t0, "client saw done": seen_done[request.pk] - t0}
        if request.started_at:
            row["job started"] = request.started_at.timestamp() - t0
        if request.finished_at:
            row["inventoried"] = request.finished_at.timestamp() - t0
        if request.pk in posted_at:
            row["POST sent"] = posted_at[request.pk] - t0
        rows[request.pk] = row
    for event in RequestEvent.objects.filter(request_id__in=list(rows), step=RequestEvent.Step.PROGRESS):
        if event.message.startswith("server ") and event.message.endswith(" asked"):
            rows[event.request_id]["create sent"] = event.at.timestamp() - t0
        elif event.message.startswith("server ") and event.message.endswith(" ACTIVE"):
            rows[event.request_id]["ACTIVE seen"] = event.at.timestamp() - t0
    return rows


def phases(timeline: dict[int, dict[str, float]], post_times: list[float]) -> dict[str, Any]:
    """Medians of the gaps between the timeline's steps, and what the compliance passes took."""
    from souverain.jobs.models import Job

    def gap(first: str, then: str) -> float | None:
        return _median([row[then] - row[first] for row in timeline.values() if first in row and then in row])

    passes = [(j.started, j.finished) for j in Job.objects.filter(kind="policy.compliance")
              if j.started and j.finished]
    edges = sorted([(a, 1) for a, _ in passes] + [(b, -1) for _, b in passes])
    at_once = most = 0
    for _, step in edges:
        at_once += step
        most = max(most, at_once)
    return {"post_s": _median(post_times), "queued_s": gap("submitted", "job started"),
            "to_create_sent_s": gap("job started", "create sent"), "boot_s": gap("create sent", "ACTIVE seen"),
            "after_active_s": gap("ACTIVE seen", "inventoried"), "client_lag_s": gap("inventoried", "client saw done"),
            "compliance_passes": len(passes),
            "compliance_seconds_total": round(sum((b - a).total_seconds() for a, b in passes), 1),
            "compliance_at_once": most}


def cloud_boot_times(conn: Any, prefix: str) -> list[float]:
    """Nova's own time from a server's creation to its launch (ACTIVE), for the servers named ``prefix``…"""
    from datetime import datetime

    times = []
    for server in conn.compute.servers():
        if server.name.startswith(prefix) and server.created_at and server.launched_at:
            created = datetime.fromisoformat(server.created_at.replace("Z", "+00:00"))
            launched = datetime.fromisoformat(server.launched_at).replace(tzinfo=created.tzinfo)
            times.append((launched - created).total_seconds())
    return times


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def project_connection(cloud: str, project_id: str) -> Any:
    """openstacksdk, as the cloud's admin account scoped to ``project_id``."""
    import openstack

    entry = copy.deepcopy(openstack.config.OpenStackConfig().get_one(cloud=f"{cloud}-admin").config["auth"])
    for key in ("project_name", "project_domain_name", "project_domain_id"):
        entry.pop(key, None)
    entry["project_id"] = project_id
    return openstack.connect(auth=entry, region_name=REGIONS[cloud], interface="public", identity_api_version="3",
                             load_yaml_config=False, load_envvars=False)


def stop_workers(workers: list[subprocess.Popen]) -> None:
    """The bench's worker processes, asked to stop (each finishes its current job's step) and waited for."""
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(30)


def cleanup(cloud: str, project_id: str, admin: Any) -> None:
    """Delete every server and floating IP of the project, then the project."""
    conn = project_connection(cloud, project_id)
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
