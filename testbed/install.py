"""Install what the test-bed runs: Debian packages when missing, and the OpenStack services in their own venv."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from testbed.layout import PACKAGE_DIR, Settings, TestbedError
from testbed.supervise import tail

REQUIREMENTS = PACKAGE_DIR / "requirements.txt"
ML2_SOURCE = PACKAGE_DIR / "ml2"
# Tools the venv is bootstrapped with before the exact pins go in (pip freeze leaves these three out).
BOOTSTRAP = ["pip==25.3", "setuptools==80.9.0", "wheel==0.45.1"]
MARKER = ".testbed-installed"


def _fingerprint(s: Settings) -> str:
    digest = hashlib.sha256()
    digest.update(" ".join(BOOTSTRAP).encode())
    digest.update(REQUIREMENTS.read_bytes())
    for path in sorted(ML2_SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def venv_ready(s: Settings) -> bool:
    marker = s.venv / MARKER
    return marker.is_file() and marker.read_text().strip() == _fingerprint(s)


def _run(argv: list[str], log: Path, what: str, env: dict[str, str] | None = None) -> None:
    with open(log, "ab") as out:
        out.write(f"\n===== {time.strftime('%H:%M:%S')} {' '.join(argv)}\n".encode())
        out.flush()
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    if result.returncode != 0:
        raise TestbedError(f"{what} failed (exit {result.returncode}); see {log}:\n{tail(log, 30)}")


def ensure_venv(s: Settings) -> bool:
    """Create or update the services' virtualenv from the pinned requirements; True if anything was installed."""
    if venv_ready(s):
        return False
    s.logs.mkdir(parents=True, exist_ok=True)
    log = s.logs / "install.log"
    print(f"testbed: installing the OpenStack services into {s.venv} (a few minutes; log: {log})", flush=True)
    started = time.monotonic()
    if not (s.venv / "bin" / "python").exists():
        python_ok(s)
        _run([s.python, "-m", "venv", str(s.venv)], log, "creating the test-bed virtualenv")
    pip = [s.bin("python"), "-m", "pip", "--disable-pip-version-check", "--no-input"]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    _run([*pip, "install", *BOOTSTRAP], log, "pip bootstrap", env)
    _run([*pip, "install", "-r", str(REQUIREMENTS)], log, "pip install of the OpenStack services", env)
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the repository.
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ml2"
        shutil.copytree(ML2_SOURCE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        _run([*pip, "install", "--no-deps", "--no-build-isolation", str(source)], log, "agentless ML2 driver", env)
    (s.venv / MARKER).write_text(_fingerprint(s) + "\n")
    print(f"testbed: services installed in {time.monotonic() - started:.0f}s", flush=True)
    return True


def missing_debian_packages(names: list[str]) -> list[str]:
    missing = []
    for name in names:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if "install ok installed" not in result.stdout:
            missing.append(name)
    return missing


def ensure_debian_packages(s: Settings, names: list[str]) -> None:
    missing = missing_debian_packages(names)
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise TestbedError(f"the test-bed needs {' '.join(missing)} and this is no Debian system: install them")
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise TestbedError(f"the test-bed needs: sudo {' '.join(command)}")
        command = ["sudo", *command]
    s.logs.mkdir(parents=True, exist_ok=True)
    log = s.logs / "install.log"
    print(f"testbed: apt-get install {' '.join(missing)} (log: {log})", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = ["apt-get", "update"] if os.geteuid() == 0 else ["sudo", "apt-get", "update"]
    _run(update, log, "apt-get update", env)
    _run(command, log, f"apt-get install {' '.join(missing)}", env)


def python_ok(s: Settings) -> None:
    try:
        probe = subprocess.run(
            [s.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        )
        found = probe.stdout.strip() or probe.stderr.strip()
    except OSError as exc:
        found = str(exc)
    if found not in ("3.10", "3.11", "3.12"):
        raise TestbedError(
            f"the services' virtualenv needs Python 3.10-3.12 (pins made with 3.11); {s.python} gives: {found}"
            " (set SOUVERAIN_TESTBED_PYTHON)"
        )
