"""First-time setup of a cloud: schemas, Keystone, the catalog, compute host mapping and the demo resources.

Every step is idempotent (find-or-create), so an `up` that failed half-way is simply run again.
"""

from __future__ import annotations

import grp
import ipaddress
import os
import pwd
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from testbed.health import Session
from testbed.layout import ADMIN_PASSWORD, DEMO_PASSWORD, SERVICE_PASSWORD, Cloud, Settings, TestbedError
from testbed.render import compute_host
from testbed.supervise import tail

SERVICE_USERS = ("nova", "placement", "glance", "neutron", "cinder")
# (service name, type, URL key in layout.PORT_OFFSETS); Cinder answers under both block-storage types.
CATALOG = (
    ("nova", "compute", "nova"),
    ("placement", "placement", "placement"),
    ("glance", "image", "glance"),
    ("neutron", "network", "neutron"),
    ("cinder", "block-storage", "cinder"),
    ("cinderv3", "volumev3", "cinder"),
)
# name, id, vCPUs, RAM MiB, disk GiB
FLAVORS = (
    ("m1.nano", "0", 1, 128, 1),
    ("m1.tiny", "1", 1, 512, 1),
    ("m1.small", "2", 1, 2048, 20),
    ("m1.medium", "3", 2, 4096, 40),
)
IMAGE_NAME = "testbed-tiny"
IMAGE_BYTES = b"Souverain test-bed image: nothing boots from it, the hypervisor is fake.\n" * 64  # ~4.5 KiB


def marker(s: Settings, c: Cloud) -> Path:
    return s.data_dir(c) / "bootstrapped"


def _run_chain(s: Settings, c: Cloud, chain: list[list[str]], ok_codes: tuple[int, ...] = (0,)) -> None:
    log = s.logs / f"{c.name}-bootstrap.log"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PYTHONWARNINGS"] = "ignore"
    for argv in chain:
        with open(log, "ab") as out:
            out.write(f"\n===== {time.strftime('%H:%M:%S')} {' '.join(argv)}\n".encode())
            out.flush()
            result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        if result.returncode not in ok_codes:
            raise TestbedError(
                f"{c.name}: {' '.join(argv[:3])} failed (exit {result.returncode}); log: {log}\n{tail(log, 30)}"
            )


def sync_schemas(s: Settings, clouds: list[Cloud], db_base: str) -> None:
    """Create every schema of every cloud; the chains are independent, so a few run side by side."""
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    jobs: list[tuple[Cloud, list[list[str]], tuple[int, ...]]] = []
    for c in clouds:
        ks = [s.bin("keystone-manage"), "--config-file", str(s.etc_dir(c, "keystone") / "keystone.conf")]
        nova = [s.bin("nova-manage"), "--config-file", str(s.etc_dir(c, "nova") / "nova.conf")]
        cell0 = f"{db_base}/{c.database('nova_cell0')}?charset=utf8"
        jobs += [
            (c, [
                [*ks, "db_sync"],
                [*ks, "fernet_setup", "--keystone-user", user, "--keystone-group", group],
                [*ks, "credential_setup", "--keystone-user", user, "--keystone-group", group],
                [*ks, "bootstrap", "--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-region-id", c.region,
                 "--bootstrap-admin-url", c.auth_url, "--bootstrap-public-url", c.auth_url,
                 "--bootstrap-internal-url", c.auth_url],
            ], (0,)),
            (c, [
                [*nova, "api_db", "sync"],
                [*nova, "cell_v2", "map_cell0", "--database_connection", cell0],
            ], (0,)),
            (c, [[s.bin("placement-manage"), "--config-file", str(s.etc_dir(c, "placement") / "placement.conf"),
                  "db", "sync"]], (0,)),
            (c, [[s.bin("glance-manage"), "--config-file", str(s.etc_dir(c, "glance") / "glance-api.conf"),
                  "db_sync"]], (0,)),
            (c, [[s.bin("neutron-db-manage"), "--config-file", str(s.etc_dir(c, "neutron") / "neutron.conf"),
                  "upgrade", "heads"]], (0,)),
            (c, [[s.bin("cinder-manage"), "--config-file", str(s.etc_dir(c, "cinder") / "cinder.conf"),
                  "db", "sync"]], (0,)),
        ]  # fmt: skip
    # Two cores: three at once keeps both busy while one chain waits on MariaDB.
    with ThreadPoolExecutor(max_workers=3) as pool:
        for future in [pool.submit(_run_chain, s, c, chain, ok) for c, chain, ok in jobs]:
            future.result()
    # Cell creation needs the API schema; `create_cell` exits 2 when cell1 already exists.
    for c in clouds:
        nova = [s.bin("nova-manage"), "--config-file", str(s.etc_dir(c, "nova") / "nova.conf")]
        _run_chain(s, c, [[*nova, "cell_v2", "create_cell", "--name", "cell1"]], ok_codes=(0, 2))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(
                _run_chain, s, c, [[s.bin("nova-manage"), "--config-file",
                                    str(s.etc_dir(c, "nova") / "nova.conf"), "db", "sync"]]
            )
            for c in clouds
        ]  # fmt: skip
        for future in futures:
            future.result()


def admin_session(c: Cloud) -> Session:
    return Session(c.auth_url, "admin", ADMIN_PASSWORD, "admin")


def warm_keystone(c: Cloud) -> None:
    """One token validation before any other service talks to a freshly started Keystone: the first burst of
    concurrent validations after a start was seen answered 403 (policy rules loaded lazily, by several threads)."""
    api = admin_session(c)
    api.call("GET", f"{c.auth_url}/auth/tokens", ok=(200,), subject=api.token)


def _find_or_create(api: Session, url: str, collection: str, query: str, body: dict[str, object]) -> dict:
    found = api.call("GET", f"{url}/{collection}?{query}")[collection]
    if found:
        return found[0]
    key = collection[:-1]
    return api.call("POST", f"{url}/{collection}", {key: body})[key]


def register_catalog(c: Cloud) -> None:
    """Service project and users, the demo project and user, services and endpoints."""
    api = admin_session(c)
    ks = c.auth_url
    roles = {r: _find_or_create(api, ks, "roles", f"name={r}", {"name": r}) for r in ("admin", "member", "service")}
    service_project = _find_or_create(api, ks, "projects", "name=service", {"name": "service", "domain_id": "default"})
    demo_project = _find_or_create(api, ks, "projects", "name=demo", {"name": "demo", "domain_id": "default"})
    for name in SERVICE_USERS:
        user = _find_or_create(
            api, ks, "users", f"name={name}", {"name": name, "password": SERVICE_PASSWORD, "domain_id": "default"}
        )
        for role in ("admin", "service"):
            api.call("PUT", f"{ks}/projects/{service_project['id']}/users/{user['id']}/roles/{roles[role]['id']}")
    demo = _find_or_create(
        api,
        ks,
        "users",
        "name=demo",
        {"name": "demo", "password": DEMO_PASSWORD, "domain_id": "default", "default_project_id": demo_project["id"]},
    )
    api.call("PUT", f"{ks}/projects/{demo_project['id']}/users/{demo['id']}/roles/{roles['member']['id']}")
    for name, kind, port_name in CATALOG:
        service = _find_or_create(api, ks, "services", f"type={kind}", {"name": name, "type": kind, "enabled": True})
        existing = api.call("GET", f"{ks}/endpoints?service_id={service['id']}")["endpoints"]
        for interface in ("public", "internal", "admin"):
            if not any(e["interface"] == interface for e in existing):
                endpoint = {"service_id": service["id"], "interface": interface, "url": c.url(port_name),
                            "region_id": c.region, "enabled": True}  # fmt: skip
                api.call("POST", f"{ks}/endpoints", {"endpoint": endpoint})


def compute_services_up(c: Cloud, api: Session, hosts: list[str]) -> bool:
    services = api.call("GET", f"{c.url('nova')}/os-services?binary=nova-compute")["services"]
    up = {sv["host"] for sv in services if sv["state"] == "up" and sv["status"] == "enabled"}
    return set(hosts) <= up


def volume_service_up(c: Cloud, api: Session) -> bool:
    services = api.call("GET", f"{c.url('cinder')}/{api.project_id}/os-services?binary=cinder-volume")["services"]
    return any(sv["state"] == "up" for sv in services)


def map_compute_hosts(s: Settings, c: Cloud) -> None:
    """Map new compute hosts to cell1 (the scheduler's periodic discovery is off: this is deterministic)."""
    record = s.data_dir(c) / "mapped-hosts"
    wanted = {compute_host(c, i) for i in range(1, s.computes + 1)}
    known = set(record.read_text().split()) if record.exists() else set()
    if wanted <= known:
        return
    nova = [s.bin("nova-manage"), "--config-file", str(s.etc_dir(c, "nova") / "nova.conf")]
    _run_chain(s, c, [[*nova, "cell_v2", "discover_hosts", "--verbose"]])
    record.write_text("\n".join(sorted(known | wanted)) + "\n")


def seed_resources(c: Cloud) -> None:
    """Flavors, a tiny public image, a shared tenant network and an external network for floating IPs."""
    api = admin_session(c)
    nova, glance, neutron = c.url("nova"), c.url("glance"), c.url("neutron")
    flavors = {f["name"] for f in api.call("GET", f"{nova}/flavors/detail?is_public=None")["flavors"]}
    for name, flavor_id, vcpus, ram, disk in FLAVORS:
        if name not in flavors:
            body = {"name": name, "id": flavor_id, "vcpus": vcpus, "ram": ram, "disk": disk}
            api.call("POST", f"{nova}/flavors", {"flavor": body})
    images = api.call("GET", f"{glance}/v2/images?name={IMAGE_NAME}")["images"]
    if not images or images[0]["status"] != "active":
        for stale in images:
            api.call("DELETE", f"{glance}/v2/images/{stale['id']}")
        image = api.call(
            "POST",
            f"{glance}/v2/images",
            {"name": IMAGE_NAME, "disk_format": "raw", "container_format": "bare", "visibility": "public"},
        )
        api.call("PUT", f"{glance}/v2/images/{image['id']}/file", raw=IMAGE_BYTES)
    public = _network(api, neutron, "public", {"router:external": True, "provider:network_type": "flat",
                                               "provider:physical_network": "public"})  # fmt: skip
    _subnet(api, neutron, public, "public-subnet", c.public_cidr, dhcp=False)
    shared = _network(api, neutron, "shared", {"shared": True})
    subnet = _subnet(api, neutron, shared, "shared-subnet", c.private_cidr, dhcp=True)
    # So that a floating IP can be associated with a server on the shared network straight away.
    if not api.call("GET", f"{neutron}/v2.0/routers?name=shared-router")["routers"]:
        gateway = {"network_id": public["id"]}
        router = api.call(
            "POST", f"{neutron}/v2.0/routers", {"router": {"name": "shared-router", "external_gateway_info": gateway}}
        )["router"]
        api.call("PUT", f"{neutron}/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})


def _network(api: Session, neutron: str, name: str, extra: dict[str, object]) -> dict:
    found = api.call("GET", f"{neutron}/v2.0/networks?name={name}")["networks"]
    if found:
        return found[0]
    return api.call("POST", f"{neutron}/v2.0/networks", {"network": {"name": name, **extra}})["network"]


def _subnet(api: Session, neutron: str, network: dict, name: str, cidr: str, dhcp: bool) -> dict:
    found = api.call("GET", f"{neutron}/v2.0/subnets?name={name}&network_id={network['id']}")["subnets"]
    if found:
        return found[0]
    net = ipaddress.ip_network(cidr)
    body = {"network_id": network["id"], "name": name, "ip_version": 4, "cidr": cidr, "enable_dhcp": dhcp,
            "gateway_ip": str(net[1])}  # fmt: skip
    return api.call("POST", f"{neutron}/v2.0/subnets", {"subnet": body})["subnet"]
