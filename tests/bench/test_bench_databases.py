"""A bench never touches a database it did not create: names without the bench prefix are refused.

Each bench is run as a user runs it, pointed at a database that is not a bench's; it must stop with a message
before connecting anywhere, and the database must be untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import benchdb  # noqa: E402


@pytest.mark.parametrize("url", [
    "postgres://postgres@127.0.0.1:5432/souverain",
    "postgres://postgres@127.0.0.1:5432/production_bench",
    "postgresql://u:p@db.example:5432/",
    "sqlite:////var/lib/souverain/souverain.sqlite3",
    "mysql://root@127.0.0.1/souverain_bench",
])
def test_checked_url_refuses_what_a_bench_did_not_create(url):
    with pytest.raises(benchdb.NotABenchDatabase) as refused:
        benchdb.checked_url(url)
    assert "refusing" in str(refused.value.code) or "unsupported" in str(refused.value.code)


def test_checked_url_accepts_bench_databases(tmp_path):
    assert benchdb.checked_url("postgres://postgres@127.0.0.1:5432/souverain_bench_query")
    directory = Path(benchdb.temp_data_dir())
    try:
        assert benchdb.checked_url(f"sqlite:///{directory}/db.sqlite3")
    finally:
        directory.rmdir()


def test_the_application_database_url_is_ignored(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/souverain")
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    assert benchdb.bench_url("souverain_bench_x").endswith("/souverain_bench_x")


@pytest.mark.parametrize("script, args", [
    ("compliance.py", ["--sizes", "10"]),
    ("inventory_query.py", ["--rows", "10", "--requests", "1"]),
    ("portal_inventory.py", ["--resources", "10", "--repeat", "1"]),
])
def test_each_bench_refuses_a_foreign_database(script, args):
    env = {**os.environ, "BENCH_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/someone_elses_db"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    assert "refusing database 'someone_elses_db'" in done.stderr, done.stderr[-2000:]


def test_sync_bench_refuses_a_foreign_database():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "sync.py"), "--database-url",
                           "postgres://postgres@127.0.0.1:5432/souverain"], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "refusing database 'souverain'" in done.stderr, done.stderr[-2000:]
