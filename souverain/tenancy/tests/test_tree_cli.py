"""`souverain tenants …` against a live server: the tree, creating a child, moving it, members, and the server's
refusals as the command's error (exit 1, the field named)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from souverain.cli.main import main
from souverain.tenancy.models import Membership, Tenant


@pytest.fixture
def cli(live_server: Any, role_users: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from souverain.core import tokens

    monkeypatch.setenv("SOUVERAIN_URL", live_server.url)
    monkeypatch.setenv("SOUVERAIN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("SOUVERAIN_PROFILE", raising=False)

    def run(*args: str, as_user: str = "operator-admin") -> Result:
        monkeypatch.setenv("SOUVERAIN_TOKEN", tokens.issue(role_users[as_user])[1])
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def test_tenants_commands(cli: Any, tenants: dict[str, Tenant]) -> None:
    created = cli("tenants", "create", "dgs", "--name", "Directorate", "--parent", "ministere")
    assert created.exit_code == 0, created.output
    assert "tenant dgs created below ministere (level 2)" in created.output
    assert Tenant.objects.get(slug="dgs").category == "state_administration"  # the parent's, by default
    # A tenant admin of the ministry creates below the directorate, adds a member and changes their role.
    assert cli("tenants", "create", "team", "--name", "Team", "--parent", "dgs", as_user="tenant-admin").exit_code == 0
    added = cli("tenants", "members", "add", "team", "alice", "--role", "tenant-member", as_user="tenant-admin")
    assert added.exit_code == 0 and "alice is tenant-member of team" in added.output
    changed = cli("tenants", "members", "set-role", "team", "alice", "tenant-admin", as_user="tenant-admin")
    assert changed.exit_code == 0 and Membership.objects.get(user__username="alice").role == "tenant-admin"
    tree = cli("tenants", "tree", "--format", "json", as_user="tenant-admin")
    roots = json.loads(tree.output)
    assert [r["slug"] for r in roots] == ["ministere"]
    assert roots[0]["children"][0]["slug"] == "dgs" and roots[0]["children"][0]["children"][0]["members"] == 1
    text = cli("tenants", "tree", as_user="tenant-admin").output
    assert "team" in text and "other-corp" not in text
    assert "other-corp" in cli("tenants", "tree").output  # operators see every tree
    # Refusals: a move under its own descendant, a parent outside the admin's subtree, a delete while in use.
    cycle = cli("tenants", "move", "dgs", "--parent", "team")
    assert cycle.exit_code == 1 and "parent" in cycle.output
    outside = cli("tenants", "create", "x", "--name", "X", "--parent", "other-corp", as_user="tenant-admin")
    assert outside.exit_code == 1 and "parent" in outside.output
    busy = cli("tenants", "delete", "team")
    assert busy.exit_code == 1 and "409" in busy.output
    assert cli("tenants", "members", "remove", "team", "alice").exit_code == 0
    assert cli("tenants", "delete", "team").exit_code == 0 and not Tenant.objects.filter(slug="team").exists()
