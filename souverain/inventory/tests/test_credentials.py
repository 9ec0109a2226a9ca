"""Where each cloud's credentials come from, as this process sees them; "not configured" clouds are skipped by
scheduled syncs and refused clearly by explicit ones (issue 10, item 14)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from .. import credentials, services
from .factories import FakeConnector, make_cloud, write_clouds_yaml


def no_clouds_yaml_around(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """openstacksdk's search path moved under ``directory`` (it is computed when openstacksdk is imported, from the
    working directory and home of that moment), and no OS_CLIENT_CONFIG_FILE: a process that finds no clouds.yaml,
    whatever the machine running the tests has in ~/.config/openstack or /etc/openstack."""
    from openstack.config import loader

    places = [directory / "cwd", directory / "home" / ".config" / "openstack", directory / "etc" / "openstack"]
    monkeypatch.setattr(loader, "CONFIG_FILES", [str(place / "clouds.yaml") for place in places])
    monkeypatch.setattr(loader, "SECURE_FILES", [str(place / "secure.yaml") for place in places])
    monkeypatch.delenv("OS_CLIENT_CONFIG_FILE", raising=False)
    monkeypatch.delenv("OS_CLIENT_SECURE_FILE", raising=False)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A process without any clouds.yaml: a server started from another shell than the one that ran
    `souverain sync`."""
    no_clouds_yaml_around(tmp_path, monkeypatch)
    return tmp_path


@pytest.mark.django_db
def test_each_source_is_named_with_its_place(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "etc").mkdir()
    path = write_clouds_yaml(elsewhere / "etc", "found")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    found, absent = make_cloud("found"), make_cloud("absent")
    encrypted = make_cloud("encrypted")
    encrypted.clouds_yaml_entry = ""
    encrypted.set_credentials({"auth": {"auth_url": "http://127.0.0.1:9/v3"}})
    encrypted.save()
    bare = make_cloud("bare")
    bare.clouds_yaml_entry = ""
    bare.save()
    other_kind = make_cloud("prism", kind="hyperscaler")

    located = credentials.locate_all([found, absent, encrypted, bare, other_kind])

    assert located[found.pk].configured and located[found.pk].path == str(path)
    assert located[found.pk].detail == f"clouds.yaml entry “found” found at {path}"
    assert not located[absent.pk].configured
    assert located[absent.pk].detail == f"missing: clouds.yaml entry “absent” is not in {path} (entries: found)"
    assert "OS_CLIENT_CONFIG_FILE" in located[absent.pk].hint
    assert (located[encrypted.pk].source, located[encrypted.pk].detail) == ("database", "encrypted in the database")
    assert located[bare.pk].source == "none" and "clouds_yaml:" in located[bare.pk].hint
    assert located[other_kind.pk].source == "no_connector" and not located[other_kind.pk].configured


@pytest.mark.django_db
def test_without_any_clouds_yaml_the_places_looked_in_are_listed(elsewhere: Path) -> None:
    cloud = make_cloud("sovereign")
    source = credentials.locate(cloud)
    assert source.source == "missing"
    assert source.detail.startswith("missing: clouds.yaml entry “sovereign”: no clouds.yaml found (looked in ")
    assert f"{elsewhere}/etc/openstack/clouds.yaml" in source.detail


@pytest.mark.django_db
def test_scheduled_syncs_skip_the_example_clouds_without_credentials_and_log_nothing(
        example_estate: Any, elsewhere: Path, caplog: pytest.LogCaptureFixture) -> None:
    """`make run` on a fresh clone: the example's clouds have no clouds.yaml here; no job every 5 minutes."""
    with caplog.at_level(logging.INFO):
        assert services.schedule_syncs(full=False) == []
        assert services.schedule_syncs(full=True) == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.django_db
def test_scheduled_syncs_take_only_the_clouds_this_process_can_authenticate(
        elsewhere: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds_yaml(elsewhere, "alpha")))
    make_cloud("alpha")
    make_cloud("ghost")
    assert [job.params["clouds"] for job in services.schedule_syncs(full=False)] == [["alpha"]]


@pytest.mark.django_db
def test_an_explicit_sync_of_a_cloud_not_configured_fails_at_once_saying_where_it_looked(
        elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from souverain.jobs import services as jobs

    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds_yaml(elsewhere, "alpha")))
    make_cloud("alpha")
    make_cloud("ghost")
    monkeypatch.setattr(services, "connector_for", lambda c, r: FakeConnector({"servers": []}))

    done = jobs.run_job(services.request_sync(["ghost", "alpha"], kinds=["server"]).pk)

    assert done.status == "partial"
    [error] = done.errors
    assert error["cloud"] == "ghost"
    assert error["error"].startswith(f"not configured: missing: clouds.yaml entry “ghost” is not in "
                                     f"{elsewhere / 'clouds.yaml'}")
    assert done.detail["alpha/r1"]["credentials"] == f"clouds.yaml entry “alpha” found at {elsewhere / 'clouds.yaml'}"


@pytest.mark.django_db(transaction=True)
def test_souverain_sync_prints_where_it_finds_each_clouds_credentials(elsewhere: Path, settings: Any) -> None:
    from click.testing import CliRunner

    from souverain.cli.main import main

    settings.CELERY_BROKER_URL = ""
    make_cloud("ghost")
    with translation.override("en"):  # a terminal's language, whatever a previous test's request activated
        result = CliRunner().invoke(main, ["sync", "ghost"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "ghost: missing: clouds.yaml entry “ghost”: no clouds.yaml found (looked in " in result.output
    assert "not configured" in result.output
