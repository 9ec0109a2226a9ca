"""``bench/sync.py --provider nutanix``: a full sync of N VMs from the Prism Central simulator vs the floor.

The simulator runs in its own process (so that serving does not share the GIL with what is measured), seeded
with ``--servers`` VMs. In rounds, the median of:

- floor: the raw paged GETs of the endpoints the sync reads (VMs, categories, images, subnets; ``$limit=100``,
  the API's maximum), each page's JSON parsed, over one keep-alive session;
- the connector's listing of the same (the SDK's requests, its deserialisation into models, serialisation back
  to the API's JSON, normalisation);
- Souverain's full sync of servers, images and subnets into an empty inventory (listing and writing), in a
  fresh process with an embedded SQLite database, timed inside it.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

PASSWORD = "bench-secret"
ENDPOINTS = ("/api/vmm/v4.3/ahv/config/vms", "/api/prism/v4.4/config/categories", "/api/vmm/v4.3/content/images",
             "/api/networking/v4.4/config/subnets")
KINDS = ["server", "image", "subnet"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def floor(url: str) -> int:
    import requests

    session = requests.Session()
    session.auth = ("admin", PASSWORD)
    count = 0
    for path in ENDPOINTS:
        page = 0
        while True:
            answer = session.get(url + path, params={"$page": page, "$limit": 100}, timeout=60)
            answer.raise_for_status()
            items = answer.json().get("data") or []
            count += len(items)
            if len(items) < 100:
                break
            page += 1
    return count


def connector_listing(url: str) -> int:
    from souverain.connectors import get_connector

    connector = get_connector("nutanix", config={"endpoint": url, "username": "admin", "password": PASSWORD})
    return sum(len(page) for kind in ("servers", "images", "subnets") for page in connector.iter_pages(kind))


def sync_child(url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    import django

    django.setup()
    from souverain.estate.models import Cloud, LegalEntity, Region
    from souverain.inventory.models import Resource, ResourceChange, SyncState
    from souverain.inventory.services import SyncRun

    operator, _ = LegalEntity.objects.get_or_create(slug="bench-operator", defaults={"name": "B", "country": "FR"})
    cloud, _ = Cloud.objects.get_or_create(slug="bench-nutanix", defaults={
        "name": "bench-nutanix", "kind": "nutanix", "operator": operator})
    cloud.endpoint = url
    cloud.set_credentials({"username": "admin", "password": PASSWORD})
    cloud.save()
    Region.objects.get_or_create(cloud=cloud, slug="dc1", defaults={"name": "dc1"})
    ResourceChange.objects.all()._raw_delete(ResourceChange.objects.db)
    Resource.objects.all().delete()
    SyncState.objects.all().delete()
    run = SyncRun(job_id=None, reporter=None, full=True, kinds=KINDS)
    started = time.perf_counter()
    run.run([cloud])
    seconds = time.perf_counter() - started
    errors = list(SyncState.objects.filter(cloud=cloud, status="stale").values_list("kind", "error"))
    print(json.dumps({"seconds": seconds, "stored": Resource.objects.filter(gone_at__isnull=True).count(),
                      "errors": errors}))


def run(servers: int, rounds: int, sync_script: str) -> None:
    from bench import benchdb

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    sim = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "testbed.nutanix.simulator", "--port", str(port),
                            "--vms", str(servers), "--password", PASSWORD], stdout=subprocess.PIPE, text=True,
                           cwd=str(Path(__file__).resolve().parents[2]))
    try:
        assert sim.stdout is not None
        print(sim.stdout.readline().strip(), flush=True)  # waits until it serves
        data_dir = benchdb.temp_data_dir()
        env = {**os.environ, "SOUVERAIN_DATA_DIR": data_dir, "SOUVERAIN_LOG_LEVEL": "WARNING"}
        subprocess.run([str(Path(sys.executable).with_name("souverain")), "migrate"], env=env, check=True,
                       capture_output=True)
        floor(url)  # warm up
        figures: dict[str, list[float]] = {"floor": [], "connector listing": [], "full sync": []}
        stored = 0
        for _ in range(rounds):
            started = time.perf_counter()
            listed = floor(url)
            figures["floor"].append(time.perf_counter() - started)
            started = time.perf_counter()
            normalised = connector_listing(url)
            figures["connector listing"].append(time.perf_counter() - started)
            out = subprocess.run([sys.executable, "-W", "ignore", sync_script, "--provider", "nutanix",
                                  "--nutanix-child", url], env=env, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            if result["errors"]:
                raise RuntimeError(f"sync errors: {result['errors']}")
            figures["full sync"].append(result["seconds"])
            stored = result["stored"]
        base = statistics.median(figures["floor"])
        print(f"Nutanix: {servers} VMs, {rounds} rounds (medians); floor read {listed} objects, the connector "
              f"{normalised}, the sync stored {stored}")
        for name, values in figures.items():
            median = statistics.median(values)
            print(f"  {name:<20} {median:7.2f}s  {median / base:5.2f}x floor")
        print(f"  load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    finally:
        sim.terminate()
        sim.wait(timeout=10)


def main(argv: list[str], sync_script: str) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="bench/sync.py --provider nutanix")
    parser.add_argument("--provider")
    parser.add_argument("--servers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nutanix-child", metavar="URL")
    args, _ = parser.parse_known_args(argv)
    if args.nutanix_child:
        sync_child(args.nutanix_child)
    else:
        run(args.servers, args.rounds, sync_script)
