"""The in-process worker runs up to its concurrency of jobs at once, oldest first, and takes the next as one ends."""

from __future__ import annotations

import threading
import time

from souverain.jobs import services, worker


def _wait(predicate, timeout: float = 5.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_jobs_run_concurrently_up_to_the_limit_then_one_per_free_slot(monkeypatch):
    queue = [1, 2, 3, 4, 5]
    running: set[int] = set()
    started: list[int] = []
    most = [0]
    release = {pk: threading.Event() for pk in queue}
    guard = threading.Lock()

    def next_queued(busy: set[int]):  # noqa: ANN202 - the worker's own query, over a list
        with guard:
            return next((type("J", (), {"pk": pk})() for pk in queue if pk not in busy), None)

    def run_job(pk: int) -> None:
        with guard:
            queue.remove(pk)  # claimed
            running.add(pk)
            started.append(pk)
            most[0] = max(most[0], len(running))
        release[pk].wait(10)
        with guard:
            running.discard(pk)

    monkeypatch.setattr(worker, "_next_queued", next_queued)
    monkeypatch.setattr(services, "run_job", run_job)
    thread = worker.InProcessWorker(poll_interval=5.0, concurrency=3)
    thread.start()
    try:
        assert _wait(lambda: len(running) == 3)
        time.sleep(0.2)
        assert started == [1, 2, 3] and most[0] == 3  # the fourth waits for a free slot
        release[2].set()  # a job's end wakes the worker at once (not after the 5 s poll)
        assert _wait(lambda: started == [1, 2, 3, 4], timeout=2.0)
        for pk in (1, 3, 4, 5):
            release[pk].set()
        assert _wait(lambda: started == [1, 2, 3, 4, 5] and not running, timeout=2.0)
        assert most[0] == 3
    finally:
        for event in release.values():
            event.set()
        thread.stop()


def test_one_job_at_a_time_on_an_in_memory_sqlite_database(settings):
    from django.db import connection

    settings.SOUVERAIN_WORKER_CONCURRENCY = 6
    expected = 1 if connection.vendor == "sqlite" and connection.is_in_memory_db() else 6
    assert worker.worker_concurrency() == expected
