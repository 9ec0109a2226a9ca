"""Following a job in a terminal: one progress bar per part (for a sync: per cloud and region).

Used by ``souverain sync``. Reads the job row, so it works the same whoever runs the job: this process,
the server's in-process worker, or a Celery worker on another machine.
"""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import services
from .models import Job

#: Exit status of ``souverain sync`` per outcome.
EXIT_CODES = {Job.Status.SUCCEEDED: 0, Job.Status.FAILED: 1, Job.Status.PARTIAL: 2}


def run_here_if_free(job_id: int) -> threading.Thread:
    """Run the job in a thread of this process unless a worker claims it first (then that worker runs it)."""

    def attempt() -> None:
        from django.db import connection

        try:
            services.run_job(job_id)
        except services.RetryLater:
            pass  # back in the queue: a worker will run it when the lock frees
        finally:
            connection.close()

    thread = threading.Thread(target=attempt, name=f"job-{job_id}", daemon=True)
    thread.start()
    return thread


def watch(job_id: int, console: Console, *, interval: float = 0.3) -> Job:
    """Show the job's progress until it finishes; returns the finished job."""
    bars: dict[str, TaskID] = {}
    columns = (TextColumn("{task.fields[part]:<28}"), BarColumn(),
               TextColumn("{task.completed:>3.0f}/{task.total:<3.0f} kinds"),
               TextColumn("{task.fields[state]:<18} {task.fields[seen]:>7} seen"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        waiting = progress.add_task("", total=1, part="(queued)", state="waiting for a worker", seen=0)
        while True:
            job = Job.objects.get(pk=job_id)
            if job.detail and waiting is not None:
                progress.remove_task(waiting)
                waiting = None
            for key, part in sorted((job.detail or {}).items()):
                fields = {"part": key, "state": str(part.get("state", "")), "seen": part.get("seen", 0)}
                if key not in bars:
                    bars[key] = progress.add_task("", total=part.get("total") or 1, **fields)
                progress.update(bars[key], completed=part.get("done", 0), total=part.get("total") or 1, **fields)
            if job.is_finished:
                return job
            time.sleep(interval)


def summary(job: Job, console: Console) -> None:
    took = f" in {job.duration.total_seconds():.1f}s" if job.duration else ""
    table = Table(title=f"job {job.pk}: {job.status}{took}")
    keys = sorted(job.detail or {})
    # The part's name says which row is which: never cut; the state, with the stale kinds, folds.
    table.add_column("Cloud/region", no_wrap=True, min_width=max((len(k) for k in keys), default=12))
    for header in ("Seen", "Created", "Updated", "Gone"):
        table.add_column(header, no_wrap=True, justify="right")
    table.add_column("State", overflow="fold")
    for key in keys:
        part = job.detail[key]
        kinds = part.get("kinds") or {}
        stale = [kind for kind, state in kinds.items() if state == "stale"]
        state = str(part.get("state", ""))
        if stale and len(stale) < len(kinds):
            state += f" (stale: {', '.join(stale)})"
        table.add_row(key, *(str(part.get(k, 0)) for k in ("seen", "created", "updated", "gone")), state)
    console.print(table)
    for error in job.errors or []:
        where = "/".join(str(error[k]) for k in ("cloud", "region", "kind") if error.get(k))
        # Connector errors start with "[cloud/region …]", which rich would take for markup.
        console.print(f"[red]error[/] {escape(where)}: {escape(str(error.get('error')))}", highlight=False)
