"""``souverain place --estate FILE``: a what-if from the shell, answered by the pure modules without Django."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ESTATE = ROOT / "examples/estate/souverain.yaml"
ON = "2026-11-25"
# Runs the CLI in this interpreter, then says on stderr whether anything imported Django.
PROBE = (
    "import sys\n"
    "from souverain.cli.main import main\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    sys.stderr.write('\\nDJANGO=%s\\n' % ('django' in sys.modules))\n"
)


def run_offline(workload: Path, cache_dir: Path) -> tuple[dict, str]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, "place", "--estate", str(ESTATE), "--workload", str(workload), "--on", ON,
         "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SOUVERAIN_CACHE_DIR": str(cache_dir), "HOME": str(cache_dir)},
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout), completed.stderr


@pytest.mark.django_db
def test_offline_placement_loads_no_django_and_agrees_with_the_server_side_placement(tmp_path):
    from souverain.estate import estatefile, snapshot
    from souverain.policy import services
    from souverain.policy.engine import Engine
    from souverain.sovereignty.kb import packaged

    workload = tmp_path / "w.yaml"
    workload.write_text("data_classes: [diffusion_restreinte, personal]\ntenant_category: state_administration\n")
    offline, stderr = run_offline(workload, tmp_path / "cache")
    assert "DJANGO=False" in stderr

    kb = packaged()
    estate = snapshot.from_document(estatefile.load(ESTATE, kb))
    server_side = services.place(
        {"data_classes": ["diffusion_restreinte", "personal"], "tenant_category": "state_administration"},
        dt.date.fromisoformat(ON), estate=estate, kb=kb, engine=Engine(), use_tenant_defaults=False)
    assert offline["allowed"] == server_side["allowed"]
    assert offline["denied"] == server_side["denied"]
    assert [a["region"] for a in offline["allowed"]] == ["sovereign/fr-paris-1"]


def test_offline_placement_refuses_an_unknown_law_like_the_api(tmp_path):
    workload = tmp_path / "w.yaml"
    workload.write_text("data_classes: [personal]\nrequirements:\n  no_exposure_to: [no-such-law]\n")
    completed = subprocess.run(
        [sys.executable, "-m", "souverain.cli.main", "place", "--estate", str(ESTATE), "--workload", str(workload),
         "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={"PATH": "/usr/bin:/bin",
                                                                    "SOUVERAIN_CACHE_DIR": str(tmp_path)},
    )
    assert completed.returncode != 0
    assert "no-such-law" in completed.stderr
