"""Processes the jobs tests start and kill for real: ``python -m souverain.jobs.tests._procs ROLE [ARGS]``.

Each role runs Django on the database named by ``DATABASE_URL`` (a file, or PostgreSQL: what the test process
and these processes share) and prints one JSON object per line on stdout, which the test reads:

- ``server``: the in-process worker and its recovery timer, as ``souverain run`` starts them; prints ``ready``.
- ``run-jobs KIND...``: creates one job per kind and runs them in threads of this process, as ``souverain sync``
  does; the test kinds below hang (they print ``running`` first), so that the test can kill -9 this process.
- ``api-writer STOP_FILE``: PATCHes a tenant through the API in a loop (as a user of the portal or the CLI would)
  until STOP_FILE exists; prints ``writing`` after its first write.
- ``compliance N``: N compliance passes, as the worker runs them.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

HANG_FOREVER = "test.hang-idempotent"
HANG_ONCE = "test.hang-not-idempotent"


_SAY = threading.Lock()


def say(**fields: Any) -> None:
    """One whole line per event, whichever threads speak at once: ``print`` writes the text and its newline in two
    writes, and two jobs' threads once printed ``{...}{...}`` on one line, which the test could not read."""
    line = json.dumps(fields) + "\n"
    with _SAY:
        sys.stdout.write(line)
        sys.stdout.flush()


def _register_test_kinds() -> None:
    from souverain.jobs import registry

    def hang(job: Any, reporter: Any) -> None:
        say(event="running", job=job.pk, kind=job.kind)
        # Only the process the test kills hangs; a worker that takes the job over finishes it.
        while os.environ.get("SOUVERAIN_TEST_HANG") == "1":
            time.sleep(0.1)
        reporter.add(done=1)

    registry.register(HANG_FOREVER, idempotent=True)(hang)
    registry.register(HANG_ONCE, idempotent=False)(hang)


def server() -> None:
    from souverain.jobs import worker

    worker.start_in_process_worker(poll_interval=0.2, schedule=False)
    say(event="ready", pid=os.getpid())
    threading.Event().wait()


def run_jobs(kinds: list[str]) -> None:
    from souverain.jobs import console, services

    jobs = [services.create_job(kind, requested_by="test") for kind in kinds]
    say(event="created", jobs=[job.pk for job in jobs])
    threads = [console.run_here_if_free(job.pk) for job in jobs]
    for thread in threads:
        thread.join()


def api_writer(stop_file: str) -> None:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from souverain.tenancy.models import Tenant

    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="operator-admin"))
    slug = Tenant.objects.values_list("slug", flat=True).first()
    writes, failures = 0, []
    deadline = time.monotonic() + 600  # a bound, should the test that stops it be gone
    while not os.path.exists(stop_file) and time.monotonic() < deadline:
        try:
            response = client.patch(f"/api/tenants/{slug}/", {"description": f"write {writes}"}, format="json")
            if response.status_code != 200:
                failures.append(f"{response.status_code}: {response.content[:200]!r}")
        except Exception as exc:  # noqa: BLE001 - counted and reported to the test
            failures.append(f"{type(exc).__name__}: {exc}")
        writes += 1
        if writes == 1:
            say(event="writing")
    say(event="done", writes=writes, failures=failures[:20], failed=len(failures))


def compliance(count: int) -> None:
    from souverain.policy.compliance import evaluate

    passes, failures = 0, []
    while passes < count:
        try:
            evaluate(trigger="manual")
        except Exception as exc:  # noqa: BLE001 - counted and reported to the test
            failures.append(f"{type(exc).__name__}: {exc}")
        passes += 1
    say(event="done", passes=passes, failures=failures[:20], failed=len(failures))


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
    django.setup()
    _register_test_kinds()
    role, args = argv[0], argv[1:]
    if role == "server":
        server()
    elif role == "run-jobs":
        run_jobs(args)
    elif role == "api-writer":
        api_writer(args[0])
    elif role == "compliance":
        compliance(int(args[0]))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
