"""``souverain run`` as a user starts it: gunicorn serves pages and static files, the embedded worker runs in a
process of its own and comes back when killed, and SIGTERM stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from souverain.project import server

SOUVERAIN = str(Path(sys.executable).with_name("souverain"))


def test_gunicorn_command_takes_its_sizes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOUVERAIN_WEB_WORKERS", "3")
    monkeypatch.setenv("SOUVERAIN_WEB_THREADS", "7")
    command = server.gunicorn_command("127.0.0.1:1")
    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--threads") + 1] == "7"
    assert command[command.index("--worker-class") + 1] == "gthread"
    monkeypatch.setenv("SOUVERAIN_WEB_WORKERS", "many")
    with pytest.raises(SystemExit, match="SOUVERAIN_WEB_WORKERS: expected a whole number"):
        server.gunicorn_command("127.0.0.1:1")


def test_default_workers_are_bounded():
    assert 1 <= server.default_workers() <= server.MAX_DEFAULT_WORKERS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _wait_for(predicate, timeout: float, what: str):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_souverain_run_serves_supervises_its_worker_and_stops_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(SOUVERAIN_DATA_DIR=str(tmp_path), SOUVERAIN_WEB_WORKERS="2", SOUVERAIN_WEB_THREADS="2",
               SOUVERAIN_LOG_LEVEL="WARNING", SOUVERAIN_SYNC_AT_START="false")
    env.pop("SOUVERAIN_LOG_FILE", None)
    subprocess.run([SOUVERAIN, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    supervisor = subprocess.Popen([SOUVERAIN, "run", "--addr", f"127.0.0.1:{port}"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return requests.get(f"{base}/healthz", timeout=10).status_code == 200
            except requests.RequestException:  # not listening yet, or a process still loading Django
                return False

        _wait_for(healthy, 90, "the server to answer")
        css = requests.get(f"{base}/static/portal/souverain.css", timeout=30)
        assert css.status_code == 200 and "max-age=3600" in css.headers["Cache-Control"]
        login = requests.get(f"{base}/login/", timeout=30)
        assert login.status_code == 200
        # gunicorn names itself only; the portal's own security headers are there (souverain/core/middleware.py).
        assert "python" not in login.headers.get("Server", "").lower()
        assert "script-src 'self'" in login.headers["Content-Security-Policy"]
        assert login.headers["Referrer-Policy"] == "same-origin"

        def worker_pid() -> int | None:
            found = [p for p in _children(supervisor.pid) if "souverain.project.server worker" in _cmdline(p)]
            return found[0] if found else None

        def gunicorn_pid() -> int | None:
            found = [p for p in _children(supervisor.pid) if "gunicorn" in _cmdline(p)]
            return found[0] if found else None

        first = _wait_for(worker_pid, 30, "the embedded worker process")
        arbiter = gunicorn_pid()
        assert arbiter and len(_children(arbiter)) == 2  # the two web processes asked for
        os.kill(first, signal.SIGKILL)
        second = _wait_for(lambda: (pid := worker_pid()) and pid != first and pid, 30, "the worker's restart")
        assert second != first
        assert healthy()

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0
        for pid in (second, arbiter):
            _wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), 30,
                      f"process {pid} to end")
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


def _state(pid: int) -> str:
    try:
        return "zombie" if " Z " in Path(f"/proc/{pid}/stat").read_text() else "alive"
    except FileNotFoundError:
        return "gone"


def test_souverain_run_refuses_to_serve_beyond_loopback_with_development_secrets(tmp_path):
    """Issue 13 item 7: the public development secret key, and a credentials key derived from it, were served on any
    address."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "SOUVERAIN_SECRET_KEY", "SOUVERAIN_CREDENTIALS_KEY",
                        "SOUVERAIN_DEBUG", "SOUVERAIN_LOG_FILE"}}
    env.update(SOUVERAIN_DATA_DIR=str(tmp_path))
    refused = subprocess.run([SOUVERAIN, "run", "--addr", f"0.0.0.0:{_free_port()}"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert refused.returncode != 0
    assert "refusing to serve beyond loopback" in refused.stderr + refused.stdout
    assert "SOUVERAIN_SECRET_KEY" in refused.stderr + refused.stdout
