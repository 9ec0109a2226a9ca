"""up / down / reset / status, serialized by a file lock so concurrent callers never start services twice."""

from __future__ import annotations

import fcntl
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from testbed import bootstrap, health, infra, install, render, services, supervise
from testbed.layout import Cloud, Settings, TestbedError
from testbed.supervise import Proc

LOCK_WAIT = 3600  # seconds a caller waits for another one's up/down/reset


def say(message: str) -> None:
    print(f"testbed: {message}", file=sys.stderr, flush=True)


@contextmanager
def locked(s: Settings, name: str = "lock") -> Iterator[None]:
    s.state_dir.mkdir(parents=True, exist_ok=True)
    with open(s.state_dir / name, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"another test-bed operation holds {name}; waiting for it")
            deadline = time.monotonic() + LOCK_WAIT
            while True:
                time.sleep(1)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TestbedError(f"waited {LOCK_WAIT}s for {s.state_dir / name}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _all(s: Settings) -> list[Proc]:
    return [p for c in s.clouds for p in services.processes(s, c)]


def _answering(s: Settings, procs: list[Proc]) -> bool:
    for proc in procs:
        if supervise.running(s, proc.key) is None:
            return False
        if proc.url is not None and health.http_status(proc.url, timeout=3) is None:
            return False
    return True


def _is_up(s: Settings) -> bool:
    return (
        install.venv_ready(s)
        and all(bootstrap.marker(s, c).exists() for c in s.clouds)
        and s.clouds_yaml.exists()
        and _answering(s, _all(s))
    )


def is_up() -> bool:
    """Every service of both clouds runs and every API answers HTTP."""
    return _is_up(Settings.from_env())


def clouds_yaml_path() -> Path:
    return Settings.from_env().clouds_yaml


def up(wait: bool = True) -> Path:
    """Bring both clouds up (installing and bootstrapping on first use) and return the clouds.yaml path.

    Fast when everything already answers. With wait=False on an already bootstrapped test-bed, returns once
    Keystone and Placement answer and every other process is started, without waiting for the other APIs.
    """
    s = Settings.from_env()
    with locked(s):
        if _is_up(s):
            return s.clouds_yaml
        return _up(s, wait)


def _start_missing(s: Settings, procs: list[Proc]) -> list[Proc]:
    started = []
    for proc in procs:
        if supervise.running(s, proc.key) is None:
            supervise.start(s, proc)
            started.append(proc)
    return started


def _up(s: Settings, wait: bool) -> Path:
    t0 = time.monotonic()
    for folder in (s.logs, s.run, s.etc, s.data):
        folder.mkdir(parents=True, exist_ok=True)
    install.ensure_venv(s)
    boxes = infra.ensure(s)
    infra.ensure_connections(s, boxes)
    fresh = [c for c in s.clouds if not bootstrap.marker(s, c).exists()]
    for c in s.clouds:
        render.render_cloud(s, c, boxes.db_base, boxes.rabbit_base)
    if fresh:
        _bootstrap_schemas(s, boxes, fresh)
        say(f"schemas ready after {time.monotonic() - t0:.0f}s")
    deadline = time.monotonic() + s.timeout
    procs = [p for c in s.clouds for p in services.processes(s, c)]
    # Nova's conductor and scheduler authenticate and look Placement up as they start, and die if they cannot:
    # Keystone and Placement come first, and on a fresh cloud the catalog is registered before anything else.
    identity = [p for p in procs if p.name in ("keystone", "placement")]
    started = _start_missing(s, identity)
    health.wait_answering(s, identity, deadline)
    for c in s.clouds:
        if c in fresh:
            bootstrap.register_catalog(c)
        if any(p.cloud == c.name and p.name == "keystone" for p in started) or c in fresh:
            bootstrap.warm_keystone(c)
    started += _start_missing(s, procs)
    if started:
        say(f"started {len(started)} processes after {time.monotonic() - t0:.0f}s")
    if not (wait or fresh):
        return render.write_clouds_yaml(s)
    health.wait_answering(s, procs, deadline)
    say(f"all APIs answer after {time.monotonic() - t0:.0f}s")
    computes = {c.name: services.compute_processes(s, c) for c in s.clouds}
    for c in s.clouds:
        _wait_workers(s, c, computes[c.name], deadline)
        bootstrap.map_compute_hosts(s, c)
    for c in fresh:
        bootstrap.seed_resources(c)
        bootstrap.marker(s, c).write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    path = render.write_clouds_yaml(s)
    say(f"up in {time.monotonic() - t0:.0f}s; OS_CLIENT_CONFIG_FILE={path}")
    return path


def _bootstrap_schemas(s: Settings, boxes: infra.Infra, fresh: list[Cloud]) -> None:
    """A cloud without its marker starts from empty databases and vhost: left-overs of another state dir (say,
    an earlier clone on the same machine) would clash with this one's compute node identities and keys."""
    names = ", ".join(c.name for c in fresh)
    say(f"bootstrapping {names} (schemas, Keystone, catalog, demo resources)")
    keys = [p.key for c in fresh for p in services.processes(s, c)]
    keys += [k for k in supervise.known_keys(s) if any(k.startswith(f"{c.name}-") for c in fresh)]
    supervise.stop(s, sorted(set(keys)))
    for c in fresh:
        shutil.rmtree(s.data_dir(c), ignore_errors=True)
        infra.drop_databases(s, boxes, c)
        infra.create_databases(s, boxes, c)
    infra.delete_vhosts(s, boxes, fresh)
    infra.ensure_vhosts(s, boxes, fresh)
    for c in fresh:
        render.render_cloud(s, c, boxes.db_base, boxes.rabbit_base)
    bootstrap.sync_schemas(s, fresh, boxes.db_base)


def _wait_workers(s: Settings, c: Cloud, computes: list[Proc], deadline: float) -> None:
    """Until every fake hypervisor and the volume service report up through the APIs."""
    api = bootstrap.admin_session(c)
    hosts = [render.compute_host(c, i) for i in range(1, s.computes + 1)]
    volume = next(p for p in services.core_processes(s, c) if p.name == "cinder-volume")
    while True:
        health.check_alive(s, [*computes, volume])
        if bootstrap.compute_services_up(c, api, hosts) and bootstrap.volume_service_up(c, api):
            return
        if time.monotonic() > deadline:
            raise health.fail(s, computes[0], f"and cinder-volume did not report up (hosts {hosts})")
        time.sleep(1)


@contextmanager
def outage(*keys: str) -> Iterator[list[str]]:
    """Stop the services named by process key (``sovereign-cinder-api``) for the ``with`` block, then bring
    everything back with ``up()``. Outages are serialised by a lock of their own, so two tests stopping the
    same service from parallel processes never bring it back under each other's feet; raises TestbedError
    when a key names no running service."""
    s = Settings.from_env()
    known = {p.key for p in _all(s)}
    unknown = sorted(set(keys) - known)
    if unknown:
        raise TestbedError(f"no such test-bed service: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    with locked(s, "outage.lock"):
        with locked(s):
            stopped = supervise.stop(s, list(keys))
        if sorted(stopped) != sorted(keys):
            if stopped:
                up()
            raise TestbedError(f"not running, so not stopped: {', '.join(sorted(set(keys) - set(stopped)))}")
        try:
            yield stopped
        finally:
            up()


def down() -> list[str]:
    """Stop every process this test-bed started (and its own MariaDB/RabbitMQ, if it runs them)."""
    s = Settings.from_env()
    with locked(s):
        return _down(s)


def _down(s: Settings) -> list[str]:
    own = infra.own_keys()
    stopped = supervise.stop(s, [k for k in supervise.known_keys(s) if k not in own])
    for key in own:  # in order: RabbitMQ, epmd, then MariaDB last
        stopped += supervise.stop(s, [key])
    if stopped:
        say(f"stopped {len(stopped)} processes")
    return stopped


def reset() -> Path:
    """Stop everything, wipe the data (databases, vhosts, files; the venv stays), and bring it up afresh."""
    s = Settings.from_env()
    with locked(s):
        _down(s)
        boxes = infra.recorded(s)
        if boxes is not None:
            for c in s.clouds:
                if boxes.db == "system" and infra.port_open(boxes.db_port):
                    infra.drop_databases(s, boxes, c)
            if boxes.mq == "system" and infra.port_open(boxes.mq_port):
                infra.delete_vhosts(s, boxes, list(s.clouds))
        for sub in ("data", "etc", "run", "infra", "logs"):
            shutil.rmtree(s.state_dir / sub, ignore_errors=True)
        for name in ("infra.json", "clouds.yaml"):
            (s.state_dir / name).unlink(missing_ok=True)
        return _up(s, wait=True)


def status() -> list[tuple[str, str, int | None, str, str]]:
    """(cloud, service, pid, state, url) for every process; state is up, starting, stopped or dead."""
    s = Settings.from_env()
    expected = _all(s)
    seen = {p.key for p in expected}
    # Compute hosts from an earlier, larger SOUVERAIN_TESTBED_COMPUTES, and the test-bed's own infra.
    for key in supervise.known_keys(s):
        if key not in seen:
            cloud_name, _, name = key.partition("-")
            expected.append(Proc(cloud_name, name, []))
    rows = []
    for proc in expected:
        pid = supervise.running(s, proc.key)
        if pid is None:
            state = "dead" if supervise.pid_path(s, proc.key).exists() else "stopped"
        elif proc.url is not None and health.http_status(proc.url, timeout=3) is None:
            state = "starting"
        else:
            state = "up"
        rows.append((proc.cloud, proc.name, pid, state, proc.url or ""))
    return rows


def memory_mib() -> dict[str, float]:
    """RSS per process group (a service and its workers), in MiB."""
    s = Settings.from_env()
    return {key: supervise.rss_mib(s, key) for key in supervise.known_keys(s)}


def logs(lines: int = 40, out: TextIO | None = None) -> None:
    """Print the tail of every log (what CI shows when a test-bed test fails)."""
    s = Settings.from_env()
    stream = out or sys.stdout
    if not s.logs.is_dir():
        print(f"no logs under {s.logs}", file=stream)
        return
    for path in sorted(s.logs.rglob("*.log")):
        if path.name.endswith(".access.log"):  # one line per request: noise next to the services' own logs
            continue
        print(f"===== {path} (last {lines} lines)", file=stream)
        print(supervise.tail(path, lines), file=stream)
