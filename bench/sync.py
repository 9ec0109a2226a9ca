"""Inventory sync speed against the test-bed: Souverain's sync vs the API itself (the floor) and its peers.

Run:  .venv/bin/python bench/sync.py [--servers 2000] [--volumes 500] [--projects 4] [--rounds 3] [--keep]
                                     [--page-size 1000]

``--page-size`` is what every listing asks for (the floor's and the sync's alike): 1000, the sync's own
(realistic: production clouds allow it), or 25 to compare. The cloud may cap it (Nova's ``max_limit``; the
test-bed's ``SOUVERAIN_TESTBED_PAGE_LIMIT``, 25 by default): the summary says the size the cloud served, so a
run at 1000 against a test-bed capped at 25 reads as what it is.

1. Populates one test-bed cloud (sovereign by default) with ``--servers`` servers and ``--volumes`` volumes
   spread over ``--projects`` projects named ``bench-p<i>`` (idempotent: only what is missing is created).
   Servers are made ``min_count`` at a time with ``networks='none'`` and a flavor no host can take, so Nova
   accepts each batch at once and the scheduler parks them in ERROR right away (TESTBED.md pitfall 8): they
   are listed like any server (with their ``fault``), and they do not change while we measure.
2. Measures, in rounds that alternate their order, the median of each:
   - floor: one raw listing per kind through the keystoneauth session (``GET /servers/detail?all_tenants=1``,
     ``GET /volumes/detail?all_tenants=1``), following a page only while the previous one came back full
     (next link), with the sync's page size; servers alone, and servers + volumes one after the other;
   - peers (servers): openstacksdk ``conn.compute.servers(all_projects=True)``, Apache Libcloud
     ``list_nodes(ex_all_tenants=True)``;
   - Souverain's full sync of servers + volumes into an empty inventory (listing *and* writing everything),
     and again with everything already stored; each in a fresh process (embedded SQLite database unless
     ``--database-url``), timed inside it (connecting and authenticating included), with its peak RSS;
   - after renaming 1 % of the servers: Souverain's incremental sync - in a fresh process (authentication and
     version discovery included; importing openstacksdk, like Python's own start-up, timed apart), then with
     the region's connector already cached as in a long-running worker - each against the raw
     ``changes-since`` requests (Nova ``changes-since``, Cinder ``updated_at=gte:``) with the same time: for the
     fresh process, from a new keystoneauth session that authenticates first; for the warm connector, from an
     authenticated one.
3. Prints every figure and the ratios; deletes the bench projects unless ``--keep``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGIONS = {"sovereign": "fr-paris-1", "international": "eu-west-1"}
FLAVOR = "bench.unschedulable"
BATCH = 250
PAGE_SIZE = 1000  # what the sync asks for (connectors.openstack.paging.DEFAULT_PAGE_SIZE); the cloud caps it
COMPUTE_MV = "compute 2.100"
VOLUME_MV = "volume 3.71"


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the test-bed side ---------------------------------------------------------------------------------------


def admin_conn(cloud: str) -> Any:
    import openstack

    return openstack.connect(cloud=f"{cloud}-admin")


def project_conn(cloud: str, project_id: str) -> Any:
    import openstack
    import yaml

    entry = copy.deepcopy(yaml.safe_load(Path(os.environ["OS_CLIENT_CONFIG_FILE"]).read_text())["clouds"]
                          [f"{cloud}-admin"])
    for key in ("project_name", "project_domain_name"):
        entry["auth"].pop(key)
    entry["auth"]["project_id"] = project_id
    return openstack.connect(load_yaml_config=False, load_envvars=False, **entry)


def in_use(admin: Any, project_id: str) -> tuple[int, int]:
    """(servers, volumes) of a project, from the quota usage: one cheap call each instead of a listing."""
    compute = admin.compute.get(f"/os-quota-sets/{project_id}/detail").json()["quota_set"]["instances"]["in_use"]
    volumes = admin.block_storage.get(f"/os-quota-sets/{project_id}?usage=True").json()["quota_set"]["volumes"]
    return int(compute), int(volumes["in_use"])


def populate(cloud: str, servers: int, volumes: int, projects: int) -> list[str]:
    admin = admin_conn(cloud)
    flavor = admin.compute.find_flavor(FLAVOR) or admin.compute.create_flavor(name=FLAVOR, ram=128, vcpus=4096, disk=1)
    image = admin.image.find_image("testbed-tiny")
    member = admin.identity.find_role("member")
    ids = []
    started = time.monotonic()
    for i in range(1, projects + 1):
        name = f"bench-p{i}"
        project = admin.identity.find_project(name) or admin.identity.create_project(name=name, domain_id="default")
        admin.identity.assign_project_role_to_user(project, admin.current_user_id, member)
        admin.set_compute_quotas(project.id, instances=-1, cores=-1, ram=-1)
        admin.set_volume_quotas(project.id, volumes=-1, gigabytes=-1)
        ids.append(project.id)
        have_servers, have_volumes = in_use(admin, project.id)
        want_servers = servers // projects + (1 if i <= servers % projects else 0)
        want_volumes = volumes // projects + (1 if i <= volumes % projects else 0)
        conn = project_conn(cloud, project.id)
        while have_servers < want_servers:
            count = min(BATCH, want_servers - have_servers)
            conn.compute.create_server(name=f"{name}-vm", flavor_id=flavor.id, image_id=image.id, networks="none",
                                       min_count=count, max_count=count)
            have_servers += count
        missing = max(0, want_volumes - have_volumes)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda n, c=conn, p=name: c.block_storage.create_volume(size=1, name=f"{p}-vol-{n}"),
                          range(missing)))
        say(f"{name}: {want_servers} servers, {want_volumes} volumes ({time.monotonic() - started:.0f}s)")
    # Measure a still cloud: nothing of ours building or being created (other suites' objects are theirs).
    nova, cinder = admin.compute.get_endpoint(), admin.block_storage.get_endpoint()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        busy = [p for p in ids if
                patiently(lambda p=p: admin.session.get(f"{nova}/servers?all_tenants=1&project_id={p}&status=BUILD"
                                                        "&limit=1").json()["servers"])
                or patiently(lambda p=p: admin.session.get(f"{cinder}/volumes?all_tenants=1&project_id={p}"
                                                           "&status=creating&limit=1").json()["volumes"])]
        if not busy:
            break
        time.sleep(3)
    else:
        say("some bench objects are still building after 5 minutes (stuck by a service restart?): measuring anyway")
    say(f"populated and settled in {time.monotonic() - started:.0f}s")
    return ids


def patiently(fn: Callable[[], Any], attempts: int = 5) -> Any:
    """Other suites stop and restart test-bed services (outage tests): wait for them rather than fail."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - whatever the client raised, retried a few times
            if attempt == attempts:
                raise
            say(f"{type(exc).__name__}: {str(exc)[:120]}; again in {10 * attempt}s")
            time.sleep(10 * attempt)
    raise AssertionError("unreachable")


def cleanup(cloud: str, projects: int) -> None:
    admin = admin_conn(cloud)
    for i in range(1, projects + 1):
        project = admin.identity.find_project(f"bench-p{i}")
        if project is None:
            continue
        conn = project_conn(cloud, project.id)
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda s, c=conn: c.compute.delete_server(s, ignore_missing=True),
                          list(conn.compute.servers())))
            list(pool.map(lambda v, c=conn: c.block_storage.delete_volume(v, ignore_missing=True),
                          list(conn.block_storage.volumes())))
        admin.identity.delete_project(project)
    flavor = admin.compute.find_flavor(FLAVOR)
    if flavor is not None:
        admin.compute.delete_flavor(flavor, ignore_missing=True)
    say("bench projects and flavor deleted")


def rename_one_percent(cloud: str, project_ids: list[str], servers: int, round_no: int) -> int:
    """Rename 1 % of the servers (spread over the projects); returns how many."""
    admin = admin_conn(cloud)
    nova = admin.compute.get_endpoint()
    wanted = max(1, servers // 100)
    per_project = -(-wanted // len(project_ids))
    targets: list[str] = []
    for project_id in project_ids:
        page = admin.session.get(f"{nova}/servers?all_tenants=1&project_id={project_id}&limit={per_project}").json()
        targets += [s["id"] for s in page["servers"]]
    targets = targets[:wanted]
    for server_id in targets:
        admin.session.put(f"{nova}/servers/{server_id}", json={"server": {"name": f"bench-renamed-{round_no}"}},
                          headers={"OpenStack-API-Version": COMPUTE_MV})
    return len(targets)


# --- what is measured ----------------------------------------------------------------------------------------


#: The biggest page the cloud served to a raw listing: min(the size asked, the cloud's cap).
served_page_size = 0


def raw_listing(session: Any, endpoint: str, path: str, key: str, params: dict[str, str],
                headers: dict[str, str]) -> int:
    """The floor: raw GETs through keystoneauth, the next page only when the API says there is one."""
    global served_page_size
    query = {**params, "limit": str(PAGE_SIZE)}
    count = 0
    while True:
        body = session.get(f"{endpoint}{path}", params=query, headers=headers).json()
        items = body.get(key) or []
        served_page_size = max(served_page_size, len(items))
        count += len(items)
        link = next((link["href"] for link in body.get(f"{key}_links") or [] if link.get("rel") == "next"), None)
        if not link or not items:
            return count
        query["marker"] = items[-1]["id"]


class Floor:
    def __init__(self, session: Any, nova: str, cinder: str) -> None:
        self.session, self.nova, self.cinder = session, nova, cinder

    @classmethod
    def of(cls, cloud: str) -> Floor:
        admin = admin_conn(cloud)
        return cls(admin.session, admin.compute.get_endpoint(), admin.block_storage.get_endpoint())

    @classmethod
    def new_session(cls, cloud: str) -> Floor:
        """What a first request costs: a new keystoneauth session (the plugin built directly, no discovery)
        that authenticates and reads the catalog."""
        import yaml
        from keystoneauth1 import session
        from keystoneauth1.identity import v3

        entry = yaml.safe_load(Path(os.environ["OS_CLIENT_CONFIG_FILE"]).read_text())["clouds"][f"{cloud}-admin"]
        auth = entry["auth"]
        sess = session.Session(auth=v3.Password(
            auth_url=auth["auth_url"], username=auth["username"], password=auth["password"],
            project_name=auth["project_name"], user_domain_name=auth.get("user_domain_name", "Default"),
            project_domain_name=auth.get("project_domain_name", "Default")))
        where = {"interface": "public", "region_name": entry["region_name"]}
        return cls(sess, sess.get_endpoint(service_type="compute", **where),
                   sess.get_endpoint(service_type="block-storage", **where))

    def servers(self, since: str | None = None, microversion: str = COMPUTE_MV) -> int:
        params = {"all_tenants": "1", **({"changes-since": since} if since else {})}
        return raw_listing(self.session, self.nova, "/servers/detail", "servers", params,
                           {"OpenStack-API-Version": microversion})

    def volumes(self, since: str | None = None) -> int:
        params = {"all_tenants": "1", **({"updated_at": f"gte:{since}"} if since else {})}
        return raw_listing(self.session, self.cinder, "/volumes/detail", "volumes", params,
                           {"OpenStack-API-Version": VOLUME_MV})


def sdk_servers(cloud: str) -> int:
    conn = admin_conn(cloud)
    conn.compute.get_endpoint()
    return len(list(conn.compute.servers(all_projects=True)))


def libcloud_servers(cloud: str) -> int:
    import yaml
    from libcloud.compute.providers import Provider, get_driver

    auth = yaml.safe_load(Path(os.environ["OS_CLIENT_CONFIG_FILE"]).read_text())["clouds"][f"{cloud}-admin"]["auth"]
    driver = get_driver(Provider.OPENSTACK)(
        auth["username"], auth["password"], ex_force_auth_url=auth["auth_url"].rsplit("/v3", 1)[0],
        ex_force_auth_version="3.x_password", ex_tenant_name=auth["project_name"],
        ex_domain_name=auth.get("user_domain_name", "Default"), ex_force_service_region=REGIONS[cloud],
        api_version="2.0")  # the driver that pages (1.1, the default, returns the first page only)
    return len(driver.list_nodes(ex_all_tenants=True))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def child(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], env=env, capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise RuntimeError(f"sync process failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the sync process ----------------------------------------------------------------------------------------


def run_child(cloud: str, mode: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    import django

    django.setup()
    from souverain.connectors.openstack import paging
    from souverain.connectors.registry import provider_class

    paging.DEFAULT_PAGE_SIZE = PAGE_SIZE  # the size this run asks for (--page-size, passed by the parent)

    # Importing openstacksdk is the process's start-up, paid once per worker; timed apart from the sync.
    import_seconds, _ = timed(lambda: provider_class("openstack"))
    from souverain.estate.models import Cloud, LegalEntity, Region
    from souverain.inventory.models import Resource, ResourceChange, SyncState
    from souverain.inventory.services import SINCE_MARGIN, SyncRun, cached_connector

    operator, _ = LegalEntity.objects.get_or_create(slug="bench-operator", defaults={"name": "B", "country": "FR"})
    row, _ = Cloud.objects.get_or_create(slug=cloud, defaults={
        "name": cloud, "kind": "openstack", "clouds_yaml_entry": f"{cloud}-admin", "operator": operator})
    Region.objects.get_or_create(cloud=row, slug=REGIONS[cloud], defaults={"name": REGIONS[cloud]})
    if mode == "empty":  # with what refers to them (history, compliance findings), outside the timing
        ResourceChange.objects.all()._raw_delete(ResourceChange.objects.db)
        Resource.objects.all().delete()
        SyncState.objects.all().delete()
    since = None
    if mode.startswith("incremental"):
        state = SyncState.objects.get(cloud=row, kind="server")
        since = (state.last_success - SINCE_MARGIN).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if mode == "incremental-warm":
        # As in a long-running worker: the region's connector is cached with its token and discovered versions.
        connector = cached_connector(row, row.regions.get())
        connector.supports("servers")
        for kind in ("flavors", "snapshots"):  # one call to each service (compute, block-storage)
            next(iter(connector.iter_pages(kind)), None)
    run = SyncRun(job_id=None, reporter=None, full=not mode.startswith("incremental"), kinds=["server", "volume"])
    seconds, _ = timed(lambda: run.run([row]))
    errors = list(SyncState.objects.filter(cloud=row, status="stale").values_list("kind", "error"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "import_seconds": import_seconds, "rss_mib": rss,
                      "counts": dict(run.totals), "since": since,
                      "errors": errors, "stored": Resource.objects.filter(gone_at__isnull=True).count()}))


# --- the run -------------------------------------------------------------------------------------------------


def main() -> None:
    global PAGE_SIZE
    if "--provider" in sys.argv and "nutanix" in sys.argv:  # the Prism Central simulator: testbed/nutanix/bench.py
        from testbed.nutanix import bench

        return bench.main(sys.argv[1:], __file__)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cloud", default="sovereign", choices=sorted(REGIONS))
    parser.add_argument("--servers", type=int, default=2000)
    parser.add_argument("--volumes", type=int, default=500)
    parser.add_argument("--projects", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the bench projects for the next run.")
    parser.add_argument("--database-url", default="",
                        help="Sync into this PostgreSQL database, whose name must start with souverain_bench "
                             "(default: a new SQLite one).")
    parser.add_argument("--page-size", type=int, default=int(os.environ.get("BENCH_SYNC_PAGE_SIZE", PAGE_SIZE)),
                        help="Page size every listing asks for (default 1000, the sync's; 25 to compare).")
    parser.add_argument("--child", nargs=2, metavar=("CLOUD", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    PAGE_SIZE = args.page_size
    os.environ["BENCH_SYNC_PAGE_SIZE"] = str(PAGE_SIZE)  # the sync processes (children) ask for the same
    if args.child:
        run_child(*args.child)
        return

    import testbed
    from bench import benchdb

    if args.database_url:
        benchdb.recreate(args.database_url)  # refuses a database without the bench prefix
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(testbed.up())
    data_dir = benchdb.temp_data_dir()
    env = {**os.environ, "SOUVERAIN_DATA_DIR": data_dir, "SOUVERAIN_LOG_LEVEL": "WARNING"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    subprocess.run([str(Path(sys.executable).with_name("souverain")), "migrate"], env=env, check=True,
                   capture_output=True)
    projects = populate(args.cloud, args.servers, args.volumes, args.projects)
    floor = Floor.of(args.cloud)
    floor.servers()  # warm the services' caches once, for everyone
    figures: dict[str, list[float]] = {}
    rss: list[float] = []
    counted: dict[str, int] = {}

    def record(name: str, seconds: float) -> None:
        figures.setdefault(name, []).append(seconds)
        say(f"{name:<34} {seconds:8.2f}s")

    def floor_both_parallel() -> int:
        with ThreadPoolExecutor(2) as pool:
            return sum(pool.map(lambda f: f(), [floor.servers, floor.volumes]))

    try:
        for round_no in range(1, args.rounds + 1):
            say(f"round {round_no}/{args.rounds}")
            steps: list[tuple[str, Callable[[], Any]]] = [
                ("floor: servers", floor.servers),
                ("floor: servers at 2.1 (libcloud's)", lambda: floor.servers(microversion="compute 2.1")),
                ("floor: servers + volumes", lambda: floor.servers() + floor.volumes()),
                ("floor: servers + volumes, parallel", floor_both_parallel),
                ("openstacksdk: servers", lambda: sdk_servers(args.cloud)),
                ("libcloud: servers", lambda: libcloud_servers(args.cloud)),
                ("souverain: full sync, empty db", lambda: child(env, args.cloud, "empty")),
                ("souverain: full sync, stored", lambda: child(env, args.cloud, "full")),
            ]
            shift = (round_no - 1) % len(steps)
            for name, step in steps[shift:] + steps[:shift]:
                seconds, result = patiently(lambda step=step: timed(step))
                if isinstance(result, dict):  # a sync process: its own timing, without Python's start-up
                    seconds = result["seconds"]
                    rss.append(result["rss_mib"])
                    assert not result["errors"], result["errors"]
                    counted[name] = result["stored"]
                else:
                    counted[name] = result
                record(name, seconds)
            for mode, label in (("incremental", "cold process"), ("incremental-warm", "warm connector")):
                changed = patiently(lambda r=round_no: rename_one_percent(args.cloud, projects, args.servers, r))
                incremental = patiently(lambda mode=mode: child(env, args.cloud, mode))
                rss.append(incremental["rss_mib"])
                record(f"souverain: incremental, {label}", incremental["seconds"])
                counted["changed"] = changed
                counted[f"updated, {label}"] = incremental["counts"].get("updated", 0)
                since = incremental["since"]
                if mode == "incremental":
                    record("importing openstacksdk, cold process", incremental["import_seconds"])

                def raw_changes(s: str = since, cold: bool = mode == "incremental") -> int:
                    source = Floor.new_session(args.cloud) if cold else floor
                    return source.servers(s) + source.volumes(s)

                record(f"raw changes-since, {label}", patiently(lambda: timed(raw_changes))[0])
    finally:
        if not args.keep:
            cleanup(args.cloud, args.projects)

    med = {name: statistics.median(values) for name, values in figures.items()}
    print(f"\nInventory sync bench: {args.cloud}, {counted.get('floor: servers')} servers and "
          f"{counted.get('floor: servers + volumes', 0) - counted.get('floor: servers', 0)} volumes in "
          f"{args.projects} projects, page size {PAGE_SIZE} asked, {served_page_size} served by the cloud, "
          f"median of {args.rounds} alternating rounds; database: {args.database_url or 'SQLite (embedded)'}")
    for name, value in med.items():
        spread = ", ".join(f"{v:.2f}" for v in figures[name])
        print(f"  {name:<38} {value:8.2f} s   (rounds: {spread})")
    base, both = med["floor: servers"], med["floor: servers + volumes"]
    print("Ratios")
    print(f"  openstacksdk servers / floor servers          {med['openstacksdk: servers'] / base:6.2f}")
    print(f"  libcloud servers / floor servers              {med['libcloud: servers'] / base:6.2f}")
    print(f"  full sync, empty db / floor servers+volumes   {med['souverain: full sync, empty db'] / both:6.2f}"
          "   (goal <= 1.30)")
    print(f"  full sync, stored / floor servers+volumes     {med['souverain: full sync, stored'] / both:6.2f}")
    print(f"  full sync, empty db / floor, kinds parallel   "
          f"{med['souverain: full sync, empty db'] / med['floor: servers + volumes, parallel']:6.2f}")
    at_2_1 = med["floor: servers at 2.1 (libcloud's)"]
    print(f"  floor servers at 2.100 / at 2.1               {base / at_2_1:6.2f}"
          "   (what the richer microversion costs the API)")
    for label, floor_is in (("cold process", "new session: authenticate, then the requests"),
                            ("warm connector", "authenticated session")):
        print(f"  incremental, {label:<15}/ raw changes-since "
              f"{med[f'souverain: incremental, {label}'] / med[f'raw changes-since, {label}']:6.2f}"
              f"   (goal <= 2.00; floor: {floor_is}; {counted['changed']} servers renamed per step, "
              f"{counted[f'updated, {label}']} updates found)")
    print(f"  peak RSS of a sync process                    {max(rss):6.0f} MiB (goal <= 500)")


if __name__ == "__main__":
    threading.current_thread().name = f"bench-{uuid.uuid4().hex[:4]}"
    main()
