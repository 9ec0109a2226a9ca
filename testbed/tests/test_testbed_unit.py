"""Fast checks of the test-bed's own machinery; no OpenStack, no network, no root."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testbed import core, health, render, supervise
from testbed.layout import CLOUDS, Settings, TestbedError, clouds_for
from testbed.supervise import Proc


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SOUVERAIN_TESTBED_DIR", str(tmp_path))
    return Settings.from_env()


def test_two_clouds_on_distinct_ports_and_names() -> None:
    sovereign, international = CLOUDS
    assert (sovereign.region, international.region) == ("fr-paris-1", "eu-west-1")
    ports = {c.port(s) for c in CLOUDS for s in ("keystone", "nova", "cinder", "placement", "glance", "neutron")}
    assert len(ports) == 12
    assert not set(sovereign.databases) & set(international.databases)
    assert sovereign.vhost != international.vhost
    assert clouds_for(21000)[0].database("nova") != sovereign.database("nova")


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOUVERAIN_TESTBED_PAGE_LIMIT", "7")
    monkeypatch.setenv("SOUVERAIN_TESTBED_COMPUTES", "3")
    s = Settings.from_env()
    assert (s.page_limit, s.computes) == (7, 3)
    monkeypatch.setenv("SOUVERAIN_TESTBED_COMPUTES", "zero")
    with pytest.raises(TestbedError):
        Settings.from_env()


def test_clouds_yaml_has_member_and_admin_entries(settings: Settings) -> None:
    text = render.clouds_yaml_text(settings)
    for name in ("sovereign", "sovereign-admin", "international", "international-admin"):
        assert f"\n  {name}:\n" in text
    assert "region_name: fr-paris-1" in text and "region_name: eu-west-1" in text
    assert text.count("identity_api_version: 3") == 4
    assert text.count("interface: public") == 4


def test_page_limit_reaches_every_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOUVERAIN_TESTBED_DIR", str(tmp_path))
    monkeypatch.setenv("SOUVERAIN_TESTBED_PAGE_LIMIT", "9")
    s, c, db, mq = Settings.from_env(), CLOUDS[0], "mysql+pymysql://root@127.0.0.1:3306", "rabbit://g:g@h:1/"
    assert render.nova_conf(s, c, db, mq)["api"]["max_limit"] == 9
    assert render.cinder_conf(s, c, db, mq)["DEFAULT"]["osapi_max_limit"] == 9
    assert render.neutron_conf(s, c, db, mq)["DEFAULT"]["pagination_max_limit"] == 9
    assert render.glance_conf(s, c, db)["DEFAULT"]["api_limit_max"] == 9
    assert render.nova_conf(s, c, db, mq)["DEFAULT"]["transport_url"].endswith("/testbed_sovereign")


def test_write_ini(tmp_path: Path) -> None:
    path = tmp_path / "x" / "a.conf"
    render.write_ini(path, {"DEFAULT": {"debug": False, "workers": 1}, "api": {"name": "n"}})
    assert path.read_text() == "[DEFAULT]\ndebug = false\nworkers = 1\n\n[api]\nname = n\n"


def test_start_and_stop_a_process_group(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    # A leader with a child in its group: stop() must end both.
    proc = Proc("unit", "sleeper", ["sh", "-c", "sleep 300 & sleep 300"])
    pid = supervise.start(settings, proc)
    time.sleep(0.3)
    assert supervise.running(settings, proc.key) == pid
    assert len(supervise.members(*_recorded(settings, proc.key))) == 3  # sh and its two sleeps
    assert supervise.stop(settings, [proc.key], grace=5) == [proc.key]
    assert supervise.running(settings, proc.key) is None
    assert not supervise.pid_path(settings, proc.key).exists()


def test_a_recycled_pid_is_never_signalled(settings: Settings) -> None:
    settings.run.mkdir(parents=True, exist_ok=True)
    # Our own pid with a start time that is not ours: stands for a pid file left from an earlier boot.
    supervise.pid_path(settings, "unit-stale").write_text(f"{os.getpid()} 1\n")
    assert supervise.running(settings, "unit-stale") is None
    assert supervise.stop(settings, ["unit-stale"], grace=1) == []


def _recorded(settings: Settings, key: str) -> tuple[int, int]:
    pid, started = supervise.pid_path(settings, key).read_text().split()
    return int(pid), int(started)


def test_lock_serializes_callers(settings: Settings, tmp_path: Path) -> None:
    holder = (
        "import sys, time\n"
        "from testbed import core\n"
        "from testbed.layout import Settings\n"
        "with core.locked(Settings.from_env()):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(2)\n"
    )
    env = {**os.environ, "SOUVERAIN_TESTBED_DIR": str(settings.state_dir)}
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", holder], env=env, cwd=root, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with core.locked(settings):
        waited = time.monotonic() - started
    child.wait(timeout=10)
    assert waited > 1.0


def test_an_outage_names_what_it_cannot_stop(settings: Settings) -> None:
    with pytest.raises(TestbedError, match="no such test-bed service: sovereign-cinder-apu"):
        with core.outage("sovereign-cinder-apu"):
            pytest.fail("an unknown service must not open an outage")
    with pytest.raises(TestbedError, match="not running, so not stopped: sovereign-cinder-api"):
        with core.outage("sovereign-cinder-api"):
            pytest.fail("a service that is not running must not open an outage")


def test_a_dying_service_fails_loudly_with_its_log(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    proc = Proc("unit", "crasher", ["sh", "-c", "echo boom-at-start; exit 3"], url="http://127.0.0.1:9/")
    supervise.start(settings, proc)
    with pytest.raises(TestbedError) as failure:
        health.wait_answering(settings, [proc], deadline=time.monotonic() + 30)
    message = str(failure.value)
    assert "unit crasher exited while starting" in message
    assert str(supervise.log_path(settings, proc.key)) in message
    assert "boom-at-start" in message
