"""`souverain sync` as a user runs it: a new embedded database with the example estate, the real test-bed.

The example estate names five regions; the test-bed has two of them (reached as the demo user), so a sync of
everything is partly done: the summary must name every region whole, say why the others failed, and keep the
terminal free of log lines, which go to the log file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import testbed

pytestmark = pytest.mark.testbed

SOUVERAIN = str(Path(sys.executable).with_name("souverain"))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("cli-sync")
    environ = {**os.environ, "SOUVERAIN_DATA_DIR": str(data), "SOUVERAIN_ADMIN_PASSWORD": "cli-test-pw",
               "OS_CLIENT_CONFIG_FILE": str(testbed.up()), "COLUMNS": "80", "SOUVERAIN_LOG_LEVEL": "INFO",
               "SOUVERAIN_LOG_FILE": str(data / "souverain.log")}
    environ.pop("DATABASE_URL", None)
    environ.pop("CELERY_BROKER_URL", None)
    subprocess.run([SOUVERAIN, "setup"], env=environ, check=True, capture_output=True, text=True, timeout=300)
    return environ


def souverain(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SOUVERAIN, *args], env=env, capture_output=True, text=True, timeout=600)


def test_a_partly_failed_sync_names_every_region_and_why_and_exits_2(env: dict[str, str]) -> None:
    done = souverain(env, "sync")

    assert done.returncode == 2, done.stdout + done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") == 7}
    assert set(rows) == {"sovereign/fr-paris-1", "international/eu-west-1", "international/eu-central-1",
                         "international/ap-southeast-1", "fusionsphere-private/lyon-campus"}
    assert rows["sovereign/fr-paris-1"].rstrip("│ ").endswith("done")
    assert rows["fusionsphere-private/lyon-campus"].rstrip("│ ").endswith("failed")
    errors = " ".join(done.stdout.split("error ", 1)[1].split())
    assert "fusionsphere-private/lyon-campus: [fusionsphere-private/lyon-campus] cannot configure the connection: " \
           "Cloud fusionsphere-private was not found." in errors
    assert "Region eu-central-1 is not a valid region name for cloud international" in errors
    # The terminal gets the summary only; the log file gets the warnings.
    assert "souverain.inventory" not in done.stderr and "souverain.connectors" not in done.stderr
    log = Path(env["SOUVERAIN_LOG_FILE"]).read_text()
    assert "inventory sync of fusionsphere-private/lyon-campus failed" in log


def test_a_sync_of_one_cloud_in_json(env: dict[str, str]) -> None:
    done = souverain(env, "sync", "sovereign", "--full", "--format", "json")

    assert done.returncode == 0, done.stdout + done.stderr
    job = json.loads(done.stdout)
    assert job["status"] == "succeeded" and job["params"] == {"clouds": ["sovereign"], "full": True, "kinds": []}
    assert job["counts"]["seen"] > 0 and job["errors"] == []
    assert set(job["detail"]) == {"sovereign/fr-paris-1"}
    assert done.stderr == ""
