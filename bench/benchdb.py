"""The databases benchmarks may use: only their own.

A bench creates, fills, and sometimes drops its database. Pointed by mistake at a real one (an operator's
``DATABASE_URL`` left in the shell), it would drop or pollute it. So a bench never reads ``DATABASE_URL``:
it takes ``BENCH_DATABASE_URL`` (or its own default), and refuses any PostgreSQL database whose name does not
start with ``souverain_bench`` and any SQLite file outside a directory the bench made for itself.
"""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlsplit

PREFIX = "souverain_bench"
TEMP_PREFIX = "souverain-bench-"


class NotABenchDatabase(SystemExit):
    """Raised (as a clean exit with a message) when a bench is given a database it did not create."""


def checked_url(url: str) -> str:
    """``url`` if it names a bench database; NotABenchDatabase otherwise (the message says why)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = parts.path.lstrip("/")
        if not name.startswith(PREFIX):
            raise NotABenchDatabase(
                f"bench: refusing database '{name or '(none)'}' of {parts.hostname or 'localhost'}: a bench only uses"
                f" databases whose name starts with '{PREFIX}' (it may drop and refill them)")
        return url
    if scheme == "sqlite":
        path = parts.path
        directory = os.path.basename(os.path.dirname(path))
        if not directory.startswith(TEMP_PREFIX):
            raise NotABenchDatabase(
                f"bench: refusing SQLite file '{path}': a bench only uses files in a directory it made "
                f"(named '{TEMP_PREFIX}…')")
        return url
    raise NotABenchDatabase(f"bench: unsupported database URL scheme '{parts.scheme}' (postgres or sqlite)")


def bench_url(default_name: str) -> str:
    """The PostgreSQL URL of this bench: BENCH_DATABASE_URL, else ``default_name`` on the local server.

    ``DATABASE_URL`` is deliberately ignored: it names the application's database."""
    if not default_name.startswith(PREFIX):
        raise ValueError(f"a bench's default database must start with {PREFIX}")
    url = os.environ.get("BENCH_DATABASE_URL") or f"postgres://postgres@127.0.0.1:5432/{default_name}"
    return checked_url(url)


def temp_data_dir() -> str:
    """A new directory for an embedded SQLite bench database."""
    return tempfile.mkdtemp(prefix=TEMP_PREFIX)


def _admin_connection(url: str):  # noqa: ANN202 - psycopg is imported lazily
    import psycopg

    return psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True)


def recreate(url: str) -> None:
    """Drop and create the bench database (checked first)."""
    name = checked_url(url).rsplit("/", 1)[1]
    with _admin_connection(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def ensure(url: str) -> None:
    """Create the bench database if it does not exist (checked first)."""
    name = checked_url(url).rsplit("/", 1)[1]
    with _admin_connection(url) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
