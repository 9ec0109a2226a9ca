from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def audit_key(tmp_path, monkeypatch):
    """Each test signs with its own key, in its own directory (never the data dir's)."""
    path = tmp_path / "audit-key.pem"
    monkeypatch.setenv("SOUVERAIN_AUDIT_KEY_FILE", str(path))
    return path
