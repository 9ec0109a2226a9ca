"""Many tenants provisioning at once on both test-bed clouds: none lost, none duplicated, quotas never exceeded.

Run:  .venv/bin/python bench/provision_concurrent.py [--tenants 10] [--per-tenant 5] [--concurrency 8]
                                                     [--retries 10] [--kill-worker] [--keep]

``--tenants`` tenants each send ``--per-tenant`` server requests, all at once (one thread per request, Django's
test client in this process: the API's own view, serializer and gate), alternating between the sovereign and the
international cloud. ``--retries`` of them are sent a second time with the same ``Idempotency-Key`` at the same
moment, as a client that timed out and retried would. The jobs run in one embedded worker process
(``--concurrency`` jobs at once, as ``souverain run`` starts it); with ``--kill-worker`` that process is killed
(SIGKILL) once a few servers are being created, and a new one takes over the interrupted jobs.

Quotas, so that some requests must be refused:

- tenants 0 and 1: Souverain quota of 2 instances overall (3 of their 5 refused at the gate, with the numbers);
- tenants 2 and 3: 1 instance on the international cloud, 4 overall (2 of the international ones refused);
- tenant 4: unlimited in Souverain, but its project on the sovereign cloud has a Nova quota of 1 instance: the
  gate lets all pass, the cloud's own quota check (or Nova itself, when two run at once) fails the others,
  before any server is made;
- the others: unlimited.

Checks, against each cloud's raw listing (admin, every project of the bench, by the ``souverain:request`` tag):

- lost: every request sent has exactly one request row, in a final state, and every ``done`` one has exactly
  one server on its cloud carrying its tag, in its tenant's project;
- duplicated: no two servers carry the same tag, no server carries the tag of a request that is not ``done``, no
  request was made twice for one idempotency key;
- quotas: each tenant's servers per cloud and overall are within its Souverain limits and its projects' Nova
  limits; the number admitted per tenant is exactly what its limits allow.

Its own SQLite database (``bench/benchdb.py``) and cloud projects, deleted at the end unless ``--keep``. Prints
the figures and the checks as JSON; exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.provision import (  # noqa: E402
    REGIONS,
    bench_database,
    bench_project,
    cleanup,
    load,
    say,
    start_workers,
    stop_workers,
)

CLOUDS = ("sovereign", "international")


def limits_of(index: int) -> dict[str, Any]:
    """Tenant ``index``'s limits: Souverain's overall and per cloud, and its projects' Nova instance quotas."""
    if index in (0, 1):
        return {"overall": 2, "per_cloud": {}, "nova": {}}
    if index in (2, 3):
        return {"overall": 4, "per_cloud": {"international": 1}, "nova": {}}
    if index == 4:
        return {"overall": None, "per_cloud": {}, "nova": {"sovereign": 1}}
    return {"overall": None, "per_cloud": {}, "nova": {}}


def admissible(clouds: list[str], limits: dict[str, Any]) -> int:
    """How many of a tenant's requests (in any order of arrival) its limits let through, for one server each."""
    per_cloud = Counter(clouds)
    allowed = sum(min(n, limits["per_cloud"].get(c, n), limits["nova"].get(c, n)) for c, n in per_cloud.items())
    return min(allowed, limits["overall"]) if limits["overall"] is not None else allowed


def raw_servers(cloud: str) -> list[dict[str, Any]]:
    """Nova's own listing of every project's servers (admin, ``all_tenants``, tags shown: microversion 2.26+),
    page after page."""
    from souverain.connectors import get_connector

    compute = get_connector("openstack", cloud=f"{cloud}-admin").connection.compute
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"all_tenants": 1, "limit": 200}
    while True:
        page = compute.get("/servers/detail", params=params, microversion="2.72").json()["servers"]
        found += page
        if len(page) < params["limit"]:
            return found
        params["marker"] = page[-1]["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--per-tenant", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8, help="jobs the embedded worker runs at once")
    parser.add_argument("--retries", type=int, default=10, help="requests sent twice with the same Idempotency-Key")
    parser.add_argument("--kill-worker", action="store_true", help="kill -9 the worker mid-run, start another")
    parser.add_argument("--keep", action="store_true", help="keep the bench projects and database")
    args = parser.parse_args()
    data, env = bench_database()

    from souverain.connectors import get_connector

    admins = {cloud: get_connector("openstack", cloud=f"{cloud}-admin") for cloud in CLOUDS}
    stamp = uuid.uuid4().hex[:6]
    projects: dict[tuple[int, str], str] = {}
    workers: list[subprocess.Popen[bytes]] = []
    ok = False
    try:
        room = args.per_tenant + 5
        for index in range(args.tenants):
            for cloud in CLOUDS:
                nova = limits_of(index)["nova"].get(cloud, room)
                project = bench_project(admins[cloud], f"bench-conc-{stamp}-t{index}", "bench/provision_concurrent.py",
                                        instances=nova, cores=room * 2, ram=room * 2048, port=room * 2)
                projects[(index, cloud)] = project["id"]
        say(f"{len(projects)} projects made on {', '.join(CLOUDS)}; {load()}")
        results = run(args, env, data, projects, workers)
        ok = all(check["ok"] for check in results["checks"].values())
        print(json.dumps(results, indent=2))
    finally:
        stop_workers(workers)
        if not args.keep:
            say("cleaning up the bench projects")
            for (_index, cloud), project_id in projects.items():
                cleanup(cloud, project_id, admins[cloud])
            shutil.rmtree(data, ignore_errors=True)
        else:
            say(f"kept projects {sorted(projects.values())} and {data}")
    sys.exit(0 if ok else 1)


def run(args: argparse.Namespace, env: dict[str, str], data: str, projects: dict[tuple[int, str], str],
        workers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.test import APIClient

    from souverain.connectors import get_connector
    from souverain.core.roles import Role
    from souverain.estate.models import Cloud
    from souverain.inventory.models import ProjectMapping
    from souverain.inventory.services import request_sync
    from souverain.jobs import services as jobs
    from souverain.provisioning.execution import request_ref
    from souverain.provisioning.models import Quota, ServiceRequest
    from souverain.tenancy.models import Membership, Tenant

    for cloud in CLOUDS:
        Cloud.objects.filter(slug=cloud).update(clouds_yaml_entry=f"{cloud}-admin")
    clouds = {c.slug: c for c in Cloud.objects.filter(slug__in=CLOUDS)}
    users: dict[int, Any] = {}
    for index in range(args.tenants):
        tenant = Tenant.objects.create(slug=f"bench-t{index}", name=f"Bench tenant {index}")
        for cloud in CLOUDS:
            ProjectMapping.objects.create(cloud=clouds[cloud], project_id=projects[(index, cloud)], tenant=tenant)
        limits = limits_of(index)
        if limits["overall"] is not None:
            Quota.objects.create(tenant=tenant, instances=limits["overall"])
        for cloud, limit in limits["per_cloud"].items():
            Quota.objects.create(tenant=tenant, cloud=clouds[cloud], instances=limit)
        users[index] = get_user_model().objects.create_user(username=f"bench-member-{index}",
                                                            password=uuid.uuid4().hex)
        Membership.objects.create(user=users[index], role=Role.TENANT_MEMBER, tenant=tenant)
    synced = jobs.run_job(request_sync(list(CLOUDS), full=True, kinds=["flavor", "image", "network"]).pk)
    say(f"flavors, images and networks synced ({synced.status if synced else '?'})")
    flavors = {}
    for cloud in CLOUDS:
        conn = get_connector("openstack", cloud=f"{cloud}-admin")
        flavors[cloud] = min((f for f in conn.flavors() if f["name"].startswith("m1.")), key=lambda f: f["ram"])["name"]

    # The requests: (tenant, number, cloud), clouds alternating; the retried ones are sent twice.
    asked = [(t, n, CLOUDS[(t + n) % 2]) for t in range(args.tenants) for n in range(args.per_tenant)]
    retried = set(asked[:: max(1, len(asked) // max(1, args.retries))][: args.retries])
    sends = [(item, attempt) for item in asked for attempt in range(2 if item in retried else 1)]
    answers: list[tuple[tuple[int, int, str], int, int | None, float]] = []
    lock = threading.Lock()
    gate = threading.Barrier(len(sends))

    def send(entry: tuple[tuple[int, int, str], int]) -> None:
        (tenant, number, cloud), _attempt = entry
        client = APIClient()
        client.force_authenticate(users[tenant])
        try:
            gate.wait(60)  # all at once
        except threading.BrokenBarrierError:
            pass
        begun = time.perf_counter()
        response = client.post("/api/requests/", {
            "kind": "server", "name": f"bench-t{tenant}-{number}", "region": f"{cloud}/{REGIONS[cloud]}",
            "spec": {"flavor": flavors[cloud], "image": "testbed-tiny", "network": "shared"}},
            format="json", HTTP_IDEMPOTENCY_KEY=f"bench-{tenant}-{number}")
        took = time.perf_counter() - begun
        body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
        with lock:
            answers.append(((tenant, number, cloud), response.status_code, body.get("id"), took))
        connection.close()

    workers += start_workers(env, data, args.concurrency, tag="-a")
    time.sleep(3)  # the worker's imports
    say(f"{len(sends)} POSTs ({len(asked)} requests, {len(retried)} of them sent twice) from {args.tenants} tenants "
        f"at once; worker: 1 process, {args.concurrency} jobs at once; {load()}")
    load_before = load()
    started = time.perf_counter()
    with ThreadPoolExecutor(len(sends)) as pool:
        list(pool.map(send, sends))
    posted = time.perf_counter() - started
    say(f"all answered in {posted:.1f} s: {dict(Counter(code for _, code, _, _ in answers))}; {load()}")

    killed = None
    deadline = time.monotonic() + 1200
    while True:
        open_ = ServiceRequest.objects.filter(name__startswith="bench-t").exclude(status__in=ServiceRequest.FINAL)
        running = open_.filter(status=ServiceRequest.Status.RUNNING).count()
        if args.kill_worker and killed is None and running >= min(3, args.concurrency):
            victim = workers[-1]
            victim.kill()  # SIGKILL: no clean-up, its jobs' leases expire
            victim.wait()
            killed = {"after_s": round(time.perf_counter() - started, 1), "running_then": running}
            say(f"worker killed (kill -9) with {running} requests running; starting another")
            workers += start_workers(env, data, args.concurrency, tag="-b")
        if not open_.exists():
            break
        if time.monotonic() > deadline:
            say(f"{open_.count()} requests still open after 1200 s")
            break
        time.sleep(0.5)
    total = time.perf_counter() - started
    load_after = load()
    say(f"every request final after {total:.1f} s; {load_after}")

    # --- the checks, against the clouds' raw listings ---------------------------------------------------------
    requests = list(ServiceRequest.objects.filter(name__startswith="bench-t").select_related("tenant", "region"))
    by_name: dict[str, list[Any]] = defaultdict(list)
    for request in requests:
        by_name[request.name].append(request)
    refs = {request_ref(r): r for r in requests}
    project_owner = {project_id: (index, cloud) for (index, cloud), project_id in projects.items()}
    servers: dict[str, list[dict[str, Any]]] = defaultdict(list)  # ref -> servers carrying it
    untagged: list[str] = []
    for cloud in CLOUDS:
        for server in raw_servers(cloud):
            if server["tenant_id"] not in project_owner:
                continue
            tags = [t for t in (server.get("tags") or []) if t.startswith("souverain:request=")]
            if not tags:
                untagged.append(f"{cloud} {server['id']} {server['name']}")
            for tag in tags:
                servers[tag.split("=", 1)[1]].append({"cloud": cloud, "id": server["id"],
                                                      "project": server["tenant_id"], "status": server["status"],
                                                      "name": server["name"]})
    status = Counter(r.status for r in requests)
    lost = [f"bench-t{t}-{n}" for t, n, _ in asked if len(by_name.get(f"bench-t{t}-{n}", [])) != 1]
    lost += [r.name for r in requests if not r.is_final]
    done = [r for r in requests if r.status == ServiceRequest.Status.DONE]
    missing = [r.name for r in done if len(servers.get(request_ref(r), [])) != 1
               or project_owner.get(servers[request_ref(r)][0]["project"])
               != (int(r.tenant.slug.removeprefix("bench-t")), r.region.cloud.slug)]
    duplicated = [ref for ref, found in servers.items() if len(found) > 1]
    strays = [f"{ref}: {refs[ref].name if ref in refs else 'unknown request'}" for ref in servers
              if ref not in refs or refs[ref].status != ServiceRequest.Status.DONE]
    over: list[str] = []
    wrong_admitted: list[str] = []
    for index in range(args.tenants):
        limits = limits_of(index)
        mine = Counter(project_owner[s[0]["project"]][1] for s in servers.values()
                       if s and project_owner.get(s[0]["project"], (None,))[0] == index)
        if limits["overall"] is not None and sum(mine.values()) > limits["overall"]:
            over.append(f"tenant {index}: {sum(mine.values())} servers, overall limit {limits['overall']}")
        for cloud, limit in {**limits["per_cloud"], **limits["nova"]}.items():
            if mine[cloud] > limit:
                over.append(f"tenant {index}: {mine[cloud]} servers on {cloud}, limit {limit}")
        expected = admissible([c for t, _, c in asked if t == index], limits)
        if sum(mine.values()) != expected:
            wrong_admitted.append(f"tenant {index}: {sum(mine.values())} servers, its limits allow {expected}")
    refusals = [r for r in requests if r.status == ServiceRequest.Status.REFUSED]
    refused_without_numbers = [r.name for r in refusals if r.refusal.get("stage") == "quota"
                               and not all({"asked", "used", "limit"} <= set(s) for s in r.refusal["shortfalls"])]
    cloud_failures = [r for r in requests if r.status == ServiceRequest.Status.FAILED]
    posts = [took for _, _, _, took in answers]
    checks = {
        "none_lost": {"ok": not lost, "detail": lost[:10]},
        "each_done_request_has_its_server": {"ok": not missing, "detail": missing[:10]},
        "none_duplicated": {"ok": not duplicated and not strays and len(requests) == len(asked),
                            "detail": (duplicated + strays)[:10], "requests": len(requests), "asked": len(asked)},
        "quotas_never_exceeded": {"ok": not over, "detail": over},
        "admitted_exactly_what_the_limits_allow": {"ok": not wrong_admitted, "detail": wrong_admitted},
        "quota_refusals_give_the_numbers": {"ok": not refused_without_numbers, "detail": refused_without_numbers},
        "no_untagged_server": {"ok": not untagged, "detail": untagged[:10]},
    }
    for name, check in checks.items():
        say(f"{'ok  ' if check['ok'] else 'FAIL'} {name} {check['detail'] if not check['ok'] else ''}")
    runs = [(r.finished_at - r.created).total_seconds() for r in done if r.finished_at]
    return {
        "tenants": args.tenants, "requests": len(asked), "posts": len(sends), "concurrency": args.concurrency,
        "answers": dict(Counter(str(code) for _, code, _, _ in answers)),
        "statuses": dict(status),
        "refused_at_the_gate": dict(Counter(r.refusal.get("stage") for r in refusals)),
        "failed_by_the_cloud": [r.status_detail[:160] for r in cloud_failures][:5],
        "servers_on_the_clouds": dict(Counter(s[0]["cloud"] for s in servers.values() if s)),
        "post_median_s": round(statistics.median(posts), 3), "post_max_s": round(max(posts), 3),
        "all_answered_s": round(posted, 1), "all_final_s": round(total, 1),
        "submitted_to_done_median_s": round(statistics.median(runs), 2) if runs else None,
        "worker_killed": killed, "load_before": load_before, "load_after": load_after,
        "checks": checks,
    }


if __name__ == "__main__":
    main()
