"""``souverain run``: a production web server, with the embedded worker beside it in its own process.

Django's development server answered 25 requests a second with a p99 of 25 s under 100 clients. The portal
and the API are served by **gunicorn** instead (pre-fork processes, each with a few threads: ``gthread``),
which is the plain, well-kept WSGI server of the Django world; an ASGI server would buy nothing here, as
every view is synchronous and database-bound. The numbers come from ``bench/load.py`` and are in
``docs/performance.md``.

One ``souverain run`` is a small supervisor of two kinds of process:

- **web**: gunicorn with ``SOUVERAIN_WEB_WORKERS`` processes (default ``2 × CPUs + 1``, at most 8) of
  ``SOUVERAIN_WEB_THREADS`` threads (default 4); static files come from WhiteNoise in the same processes;
  SIGTERM lets running requests finish (``SOUVERAIN_GRACEFUL_TIMEOUT``, default 30 s) before it stops.
- **worker** (embedded default only, i.e. without ``CELERY_BROKER_URL``): the in-process worker and
  scheduler (``souverain.jobs.worker``) in a process of its own, so that jobs never run inside a request
  thread and exist once however many web processes there are. It is restarted if it dies. In scale mode
  Celery workers and beat do this work and no worker process is started.

SIGTERM or SIGINT on the supervisor is passed to both; it exits with gunicorn's status.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

log = logging.getLogger(__name__)

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    return max(1, min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS))


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}: expected a whole number, got {raw!r}") from None
    if value < 1:
        raise SystemExit(f"{name}: must be at least 1, got {value}")
    return value


def gunicorn_command(addr: str, *, workers: int | None = None, threads: int | None = None) -> list[str]:
    workers = workers or _int_env("SOUVERAIN_WEB_WORKERS", default_workers())
    threads = threads or _int_env("SOUVERAIN_WEB_THREADS", 4)
    graceful = _int_env("SOUVERAIN_GRACEFUL_TIMEOUT", 30)
    return [
        sys.executable, "-m", "gunicorn", "souverain.project.wsgi:application",
        "--bind", addr,
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--graceful-timeout", str(graceful),
        # A request may legitimately take a while (a compliance report, a large export); a stuck one may not.
        "--timeout", str(_int_env("SOUVERAIN_WEB_TIMEOUT", 120)),
        "--keep-alive", "5",
        "--no-control-socket",  # gunicorn 24+ opens ~/.gunicorn/gunicorn.ctl otherwise: nothing here uses it
        # Bounded request lines and headers: untrusted input never stalls a process.
        "--limit-request-line", "8190", "--limit-request-fields", "100",
        "--access-logfile", os.environ.get("SOUVERAIN_ACCESS_LOG", "-") or "-",
        "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        "--log-level", os.environ.get("SOUVERAIN_LOG_LEVEL", "info").lower(),
    ]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "souverain.project.server", "worker"]


def run_worker_forever() -> None:
    """The embedded worker and scheduler, in the foreground of this process, until SIGTERM or SIGINT."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    import django

    django.setup()
    from souverain.jobs import worker as jobs_worker

    # A separate process cannot be woken by the web process that queued a job: poll often instead (one
    # indexed query).
    thread = jobs_worker.start_in_process_worker(poll_interval=0.25)
    if thread is None:
        log.info("CELERY_BROKER_URL is set: Celery runs the jobs, no embedded worker")
        return
    stopping = {"now": False}

    def stop(signum: int, frame: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping["now"] and thread.is_alive():
        time.sleep(0.2)
    jobs_worker.stop_in_process_worker()


class Supervisor:
    """Runs gunicorn and (embedded default) the worker process; restarts the worker; stops both together."""

    def __init__(self, addr: str, *, embedded_worker: bool, workers: int | None = None,
                 threads: int | None = None) -> None:
        self.web_command = gunicorn_command(addr, workers=workers, threads=threads)
        self.embedded_worker = embedded_worker
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.stopping = False
        self.worker_restarts = 0

    def _start_worker(self) -> None:
        self.worker = subprocess.Popen(worker_command())

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        if self.embedded_worker:
            self._start_worker()
        self.web = subprocess.Popen(self.web_command)
        backoff = 1.0
        while True:
            status = self.web.poll()
            if status is not None:
                self._stop_worker()
                return status
            if self.embedded_worker and not self.stopping and self.worker is not None \
                    and self.worker.poll() is not None:
                log.warning("embedded worker exited with %s; restarting it in %.0f s", self.worker.returncode,
                            backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                self.worker_restarts += 1
                self._start_worker()
            time.sleep(0.2)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.stopping:
            return
        self.stopping = True
        # gunicorn: SIGTERM is a graceful stop (running requests finish within the graceful timeout).
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def _stop_worker(self) -> None:
        if self.worker is None or self.worker.poll() is not None:
            return
        self.worker.send_signal(signal.SIGTERM)
        try:
            self.worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.worker.kill()
            self.worker.wait()


def serve(addr: str, *, workers: int | None = None, threads: int | None = None) -> int:
    """Serve the portal and the API on ``addr`` until stopped; returns the exit status."""
    embedded = not os.environ.get("CELERY_BROKER_URL")
    return Supervisor(addr, embedded_worker=embedded, workers=workers, threads=threads).run()


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    run_worker_forever()
