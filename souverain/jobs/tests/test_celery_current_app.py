"""Scale mode hands a job to Celery through ``celery.current_app``, which the project sets when the settings load.

Each case runs in a fresh interpreter, as a server process starts: what matters is which app is current
after ``django.setup()`` alone, with nothing else imported. The broker is kombu's in-memory transport, so the
message the server would publish is read back in the same process, without Redis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SEND_AND_READ_BACK = """
import json, django
django.setup()
from celery import current_app
from souverain.jobs import services
services._send_to_celery(42)
with current_app.connection_for_read() as conn:
    message = conn.SimpleQueue("celery").get(timeout=5)
print(json.dumps({"app": current_app.main, "broker": current_app.conf.broker_url,
                  "serializer": current_app.conf.task_serializer,
                  "task": message.headers["task"], "args": message.decode()[0]}))
"""

CURRENT_APP = """
import django
django.setup()
from celery import current_app
print(current_app.main, current_app.conf.task_serializer, current_app.conf.task_acks_late)
"""


def run(script: str, tmp_path: Path, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    environment.update({"DJANGO_SETTINGS_MODULE": "souverain.project.settings", "SOUVERAIN_DATA_DIR": str(tmp_path),
                        "PYTHONPATH": str(REPO), **env})
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_scale_mode_sends_the_job_through_the_projects_app(tmp_path: Path) -> None:
    sent = json.loads(run(SEND_AND_READ_BACK, tmp_path, CELERY_BROKER_URL="memory://"))
    assert sent == {"app": "souverain", "broker": "memory://", "serializer": "json",
                    "task": "souverain.jobs.tasks.run_job", "args": [42]}


def test_the_current_app_is_the_projects_once_django_is_set_up(tmp_path: Path) -> None:
    """Whatever the mode: the project's app, configured from Django's settings (``CELERY_*``)."""
    assert run(CURRENT_APP, tmp_path) == "souverain json True"
