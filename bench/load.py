"""The server under load: N concurrent clients for a fixed time against ``souverain run``, on loopback only.

Run: .venv/bin/python bench/load.py [--clients 100] [--seconds 180] [--resources 20000] [--workers N]
     [--dev-server]   (the same load against Django's development server, the peer this replaced)

Sets up its own server: a fresh data directory (a SQLite database this bench creates, bench/benchdb.py), the
knowledge base and the example estate, ``--resources`` synthetic inventory rows, an operator user; then starts
``souverain run`` on a free 127.0.0.1 port (or ``manage runserver`` with ``--dev-server``). Each client is an
aiohttp session, logged in to the portal and holding an API token, that loops over a mix of requests until
the time is up:

    40 %  GET  /api/regions/                      (estate API)
    30 %  GET  /api/inventory/resources/?limit=50 (inventory API, a random filter half the time)
    15 %  POST /api/placement/                    (a workload drawn from a few kinds: cold then warm classes)
    15 %  GET  /                                  (the portal's overview page)

Prints per endpoint: requests, errors (non-2xx or transport), throughput, p50/p99; then the totals and the load
average before and after. Bounded: a fixed duration, a fixed number of clients, one request in flight per client,
loopback only, and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import benchdb  # noqa: E402

SOUVERAIN = str(Path(sys.executable).with_name("souverain"))
PASSWORD = "bench-load-Pw-2026!"
WORKLOADS = [
    {"data_classes": ["personal"]},
    {"data_classes": ["health"]},
    {"data_classes": ["diffusion_restreinte"], "requirements": {"secnumcloud": True}},
    {"data_classes": ["internal"], "requirements": {"eu_only": True}},
    {"data_classes": ["public"]},
]
MIX = [("regions", 40), ("inventory", 30), ("placement", 15), ("overview", 15)]


def say(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


def server_cpu_seconds(root: int) -> float | None:
    """User + system CPU time of the server's process tree (Linux /proc; None elsewhere).

    On a shared, loaded host the wall-clock figures mostly measure the wait for a core; the server's CPU time
    per request does not, and says what the same server would serve on cores of its own."""
    try:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime + stime
    except OSError:
        return None
    tree, ticks = {root}, 0
    for _ in range(4):  # souverain run → gunicorn master → workers (and the embedded worker)
        tree |= {pid for pid, (ppid, _) in stats.items() if ppid in tree}
    ticks = sum(stats[pid][1] for pid in tree if pid in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict[str, str], resources: int) -> None:
    subprocess.run([SOUVERAIN, "setup"], env=env, check=True, capture_output=True)
    script = f"""
from django.contrib.auth import get_user_model
from souverain.core.roles import Role
from souverain.tenancy.models import Membership
from souverain.portal.tests.factories import bulk_resources
user, _ = get_user_model().objects.get_or_create(username="bench-load")
user.set_password({PASSWORD!r}); user.save()
Membership.objects.get_or_create(user=user, defaults={{"role": Role.OPERATOR_ADMIN}})
bulk_resources({resources})
"""
    subprocess.run([SOUVERAIN, "manage", "shell", "-c", script], env=env, check=True, capture_output=True)


async def log_in(session, base: str) -> dict[str, str]:  # noqa: ANN001
    """A portal session (cookies kept by ``session``) and the API headers of the bench user."""
    async with session.post(f"{base}/api/auth/token/", json={"username": "bench-load", "password": PASSWORD}) \
            as response:
        token = (await response.json())["token"]
    async with session.get(f"{base}/login/") as response:
        await response.text()
    csrf = next((c.value for c in session.cookie_jar if c.key == "csrftoken"), "")
    async with session.post(f"{base}/login/", data={"username": "bench-load", "password": PASSWORD,
                                                    "csrfmiddlewaretoken": csrf},
                            headers={"Referer": f"{base}/login/"}) as response:
        await response.text()
    return {"Authorization": f"Token {token}"}


async def client(session, api: dict[str, str], base: str, until: float, latencies: dict[str, list[float]],  # noqa: ANN001
                 errors: dict[str, int], seed: int) -> None:
    import aiohttp

    rng = random.Random(seed)
    names = [name for name, weight in MIX for _ in range(weight)]
    while time.monotonic() < until:
        name = rng.choice(names)
        started = time.perf_counter()
        try:
            if name == "regions":
                request = session.get(f"{base}/api/regions/", headers=api)
            elif name == "inventory":
                query = rng.choice(["", "&kind=server", "&status=active", "&q=web"])
                request = session.get(f"{base}/api/inventory/resources/?limit=50{query}", headers=api)
            elif name == "placement":
                request = session.post(f"{base}/api/placement/", headers=api, json={"workload": rng.choice(WORKLOADS)})
            else:
                request = session.get(f"{base}/")
            async with request as response:
                await response.read()
                ok = 200 <= response.status < 300
        except (TimeoutError, aiohttp.ClientError):
            ok = False
        latencies[name].append(time.perf_counter() - started)
        if not ok:
            errors[name] += 1


async def hammer(base: str, clients: int, seconds: float, on_start: Callable[[], None] = lambda: None,
                 ) -> tuple[dict[str, list[float]], dict[str, int], float]:
    """Log every client in first (not timed), then let them all loop for ``seconds``."""
    import aiohttp

    latencies: dict[str, list[float]] = {name: [] for name, _ in MIX}
    errors: dict[str, int] = {name: 0 for name, _ in MIX}
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    sessions = [aiohttp.ClientSession(connector=connector, connector_owner=False, timeout=timeout,
                                      cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(clients)]
    try:
        headers = []
        for start in range(0, clients, 10):  # ten log-ins at a time: the set-up is not what is measured
            headers += await asyncio.gather(*(log_in(s, base) for s in sessions[start:start + 10]))
        on_start()  # after the log-ins (each checks a password hash: seconds of CPU that are not the load)
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(*(client(s, h, base, until, latencies, errors, n)
                               for n, (s, h) in enumerate(zip(sessions, headers, strict=True))))
        return latencies, errors, time.monotonic() - started
    finally:
        for session in sessions:
            await session.close()
        await connector.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--resources", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=None, help="web processes (default: souverain run's)")
    parser.add_argument("--dev-server", action="store_true", help="Django's development server instead")
    args = parser.parse_args()
    if not 1 <= args.clients <= 500 or not 1 <= args.seconds <= 900:
        raise SystemExit("bench/load.py: --clients is 1..500 and --seconds 1..900 (a bounded test)")

    data_dir = benchdb.temp_data_dir()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "SOUVERAIN_LOG_FILE"}}
    env.update(SOUVERAIN_DATA_DIR=data_dir, SOUVERAIN_LOG_LEVEL="WARNING", SOUVERAIN_SYNC_AT_START="false",
               SOUVERAIN_ACCESS_LOG="/dev/null")
    if args.workers:
        env["SOUVERAIN_WEB_WORKERS"] = str(args.workers)
    say(f"setting up {data_dir} with {args.resources} resources")
    prepare(env, args.resources)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if args.dev_server:
        command = [SOUVERAIN, "manage", "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"]
    else:
        command = [SOUVERAIN, "run", "--addr", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        import urllib.request

        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("bench/load.py: the server did not start") from None
                time.sleep(0.5)
        before = os.getloadavg()
        say(f"{args.clients} clients for {args.seconds:.0f} s against {' '.join(command[1:3])}")
        cpu_before: list[float | None] = []
        latencies, errors, elapsed = asyncio.run(hammer(
            base, args.clients, args.seconds, lambda: cpu_before.append(server_cpu_seconds(server.pid))))
        after = os.getloadavg()
        cpu_after = server_cpu_seconds(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)

    total = sum(len(v) for v in latencies.values())
    every = [x for v in latencies.values() for x in v]
    server_name = "Django development server" if args.dev_server else "souverain run (gunicorn)"
    print(f"\nLoad: {server_name}, {args.clients} clients, {elapsed:.0f} s, {args.resources} resources, "
          f"{os.cpu_count()} CPUs; load average before {before[0]:.2f}, after {after[0]:.2f} (1 min)")
    print(f"  {'endpoint':<12} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>9} {'p99 ms':>9}")
    for name, _ in MIX:
        values = latencies[name]
        print(f"  {name:<12} {len(values):>9} {errors[name]:>7} {len(values) / elapsed:>8.1f} "
              f"{percentile(values, 50) * 1000:>9.1f} {percentile(values, 99) * 1000:>9.1f}")
    print(f"  {'all':<12} {total:>9} {sum(errors.values()):>7} {total / elapsed:>8.1f} "
          f"{percentile(every, 50) * 1000:>9.1f} {percentile(every, 99) * 1000:>9.1f}")
    print("  goal: 0 errors, p99 <= 500 ms, >= 200 req/s on 2 cores")
    if cpu_before and cpu_before[0] is not None and cpu_after is not None and total:
        used = cpu_after - cpu_before[0]
        print(f"  server CPU time over the run: {used:.1f} s ({used / elapsed:.2f} cores busy on average), "
              f"{used / total * 1000:.1f} ms a request: {total / used * (os.cpu_count() or 1):.0f} req/s "
              f"if the server had all {os.cpu_count()} cores to itself")
    return 0


if __name__ == "__main__":
    sys.exit(main())
