"""The sync page says where each cloud's credentials come from for the server's process (issue 10, item 14)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from souverain.inventory.tests.factories import write_clouds_yaml
from souverain.inventory.tests.test_credentials import no_clouds_yaml_around


@pytest.mark.django_db
def test_the_sync_page_names_each_clouds_credentials_and_flags_the_missing_ones(
        login: Any, estate: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_clouds_yaml_around(tmp_path, monkeypatch)
    path = write_clouds_yaml(tmp_path, "sovereign")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))

    page = html.unescape(login("operator-ops").get("/sync/").content.decode())

    assert f"clouds.yaml entry “sovereign” found at {path}" in page
    assert f"missing: clouds.yaml entry “international” is not in {path} (entries: sovereign)" in page
    assert "Set OS_CLIENT_CONFIG_FILE in the environment of the server" in page
    # international and fusionsphere-private lack their entry; nutanix-private and nimbus have no connector.
    assert "4 clouds are not configured" in page
    assert page.count("not configured</span>") >= 2


@pytest.mark.django_db
def test_the_credentials_column_is_in_french(login: Any, estate: Any, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    no_clouds_yaml_around(tmp_path, monkeypatch)
    client = login("operator-ops")
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    page = html.unescape(client.get("/sync/").content.decode())
    assert "Identifiants" in page and "non configuré" in page
    assert "aucun clouds.yaml trouvé" in page
