"""Start, find and stop the test-bed's processes.

Each service runs in a session and process group of its own; its pid file holds the leader's pid and start time,
so `down` signals only groups this test-bed started, never a process that later got a recycled pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testbed.layout import Settings

# Popen objects of the services this interpreter started: kept so they are reaped (no zombies, no
# ResourceWarning) when a long-lived caller such as pytest polls them.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Proc:
    cloud: str
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None  # an API answers HTTP here once it is ready

    @property
    def key(self) -> str:
        return f"{self.cloud}-{self.name}"


def log_path(settings: Settings, key: str) -> Path:
    return settings.logs / f"{key}.log"


def pid_path(settings: Settings, key: str) -> Path:
    return settings.run / f"{key}.pid"


def _start_time(pid: int) -> int | None:
    """Kernel start time of a process (clock ticks since boot), None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields are counted from the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _pgid_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2 :].split()[2])


def _read_pid(settings: Settings, key: str) -> tuple[int, int] | None:
    try:
        pid, started = pid_path(settings, key).read_text().split()
        return int(pid), int(started)
    except (OSError, ValueError):
        return None


def members(pgid: int, since: int) -> list[int]:
    """Live processes of group `pgid` that started no earlier than its leader did."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if _pgid_of(pid) == pgid and (_start_time(pid) or -1) >= since:
            found.append(pid)
    return found


def running(settings: Settings, key: str) -> int | None:
    """The leader pid of a service this test-bed started and that still runs."""
    recorded = _read_pid(settings, key)
    if recorded is None:
        return None
    pid, started = recorded
    child = _CHILDREN.get(pid)
    if child is not None:
        child.poll()
    return pid if _start_time(pid) == started else None


def start(settings: Settings, proc: Proc) -> int:
    settings.logs.mkdir(parents=True, exist_ok=True)
    settings.run.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **proc.env}
    # The caller's virtualenv must not leak into the services' interpreter.
    for var in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"):
        if var not in proc.env:
            env.pop(var, None)
    with open(log_path(settings, proc.key), "ab") as log:
        log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(proc.argv)}\n".encode())
        log.flush()
        child = subprocess.Popen(
            proc.argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=settings.state_dir,
            start_new_session=True,
        )
    _CHILDREN[child.pid] = child
    started = _start_time(child.pid)
    pid_path(settings, proc.key).write_text(f"{child.pid} {started or 0}\n")
    return child.pid


def known_keys(settings: Settings) -> list[str]:
    if not settings.run.is_dir():
        return []
    return sorted(p.stem for p in settings.run.glob("*.pid"))


def stop(settings: Settings, keys: list[str], grace: float = 15.0) -> list[str]:
    """SIGTERM each group, SIGKILL what is left after `grace` seconds; returns the keys that were running."""
    groups: dict[str, tuple[int, int]] = {}
    for key in keys:
        recorded = _read_pid(settings, key)
        if recorded and members(*recorded):
            groups[key] = recorded
    for pgid, since in groups.values():
        for pid in members(pgid, since):
            _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(members(*g) for g in groups.values()):
        _reap()
        time.sleep(0.3)
    for pgid, since in groups.values():
        for pid in members(pgid, since):
            _signal(pid, signal.SIGKILL)
    _reap()
    for key in keys:
        pid_path(settings, key).unlink(missing_ok=True)
    return sorted(groups)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap() -> None:
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            del _CHILDREN[pid]


def rss_mib(settings: Settings, key: str) -> float:
    recorded = _read_pid(settings, key)
    if not recorded:
        return 0.0
    total_kib = 0
    for pid in members(*recorded):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def tail(path: Path, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - max(65536, 400 * lines)))  # OpenStack log lines run long
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
