"""The README's quick tour, every line as written, against a fresh server (issue 10, item 15).

What `make run` does is done here with the same commands on a free loopback port and a fresh data directory
(`souverain setup`, then `souverain run`, with the OS_CLIENT_CONFIG_FILE the tour asks for); every line of the
tour's shell block then runs through bash from the repository's root, with the environment a user of that
server would have (its URL; the password `make run` printed, for `login`'s prompt; an 80-column terminal).
`export` lines carry over to the following lines, as in a shell. `testbed up` brings the shared test-bed up
(idempotent) and `sync` reads it for real. A line that exits non-zero fails the test with its output.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SOUVERAIN = ROOT / ".venv" / "bin" / "souverain"
PASSWORD = "readme-tour-password"

pytestmark = pytest.mark.testbed


def tour_lines(readme: Path = ROOT / "README.md") -> list[str]:
    """The shell lines of the README's "Quick tour" section (its first ```sh block)."""
    section = readme.read_text(encoding="utf-8").split("## Quick tour", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's quick tour has no ```sh block"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data = tmp_path_factory.mktemp("tour-data")
    home = tmp_path_factory.mktemp("tour-home")
    port = free_port()
    env = {**os.environ, "SOUVERAIN_DATA_DIR": str(data), "SOUVERAIN_ADMIN_PASSWORD": PASSWORD, "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "COLUMNS": "80", "TERM": "dumb"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "OS_CLIENT_CONFIG_FILE", "SOUVERAIN_URL", "SOUVERAIN_TOKEN",
                 "SOUVERAIN_PROFILE", "SOUVERAIN_CONFIG_DIR", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    setup = subprocess.run([str(SOUVERAIN), "setup"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    log = (data / "server.log").open("w")
    # As the tour says: the server started with the test-bed's clouds.yaml (its worker may run the tour's sync).
    server_env = {**env, "OS_CLIENT_CONFIG_FILE": str(ROOT / ".testbed" / "clouds.yaml")}
    proc = subprocess.Popen([str(SOUVERAIN), "run", "--addr", f"127.0.0.1:{port}"], cwd=ROOT, env=server_env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/", timeout=5).status_code < 500:
                break
        except requests.RequestException:
            pass
        assert proc.poll() is None, (data / "server.log").read_text()[-3000:]
        time.sleep(0.5)
    else:
        pytest.fail("souverain run did not answer within 180 s:\n" + (data / "server.log").read_text()[-3000:])
    try:
        yield {**env, "SOUVERAIN_URL": url, "SOUVERAIN_PASSWORD": PASSWORD}
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        log.close()


def test_the_tour_parses_into_commands_that_name_shipped_files() -> None:
    lines = tour_lines()
    assert any("login" in line for line in lines) and any("testbed up" in line for line in lines)
    for line in lines:
        for word in shlex.split(line, comments=True):
            if word.startswith("examples/"):
                assert (ROOT / word).exists(), f"{line!r}: {word} does not ship"


def test_every_command_of_the_quick_tour_runs_as_written(server: dict[str, str]) -> None:
    exports: list[str] = []
    for line in tour_lines():
        if line.startswith("export "):
            exports.append(line.split("  #")[0])
        script = "set -eo pipefail\n" + "\n".join(exports) + "\n" + line
        started = time.monotonic()
        result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=server, capture_output=True, text=True,
                                timeout=900, stdin=subprocess.DEVNULL)
        took = time.monotonic() - started
        assert result.returncode == 0, (f"README tour line failed (exit {result.returncode}, {took:.0f} s): {line}\n"
                                        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}")
        sys.stdout.write(f"ok {took:5.1f}s  {line}\n")
