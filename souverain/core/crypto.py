"""Encryption at rest for cloud credentials and other secrets (Fernet: AES-128-CBC + HMAC-SHA256), its keys, and
their rotation.

Where the key comes from, first found wins:

1. ``SOUVERAIN_CREDENTIALS_KEY`` (scale mode: the same on every machine), with ``SOUVERAIN_CREDENTIALS_OLD_KEYS``
   (comma-separated) still read during a rotation;
2. the key file, ``$SOUVERAIN_DATA_DIR/credentials.key`` (or ``SOUVERAIN_CREDENTIALS_KEY_FILE``): one key per line,
   the first encrypts, the others are only read (a rotation in progress). ``souverain setup`` (hence ``make run``)
   creates it, mode 0600, with a random key, and re-encrypts what was stored before under the derived key;
3. only for development: a key derived from ``SECRET_KEY``. Before this file existed it was the default, and the
   default secret is public, so a read-only copy of the database was enough to decrypt a cloud password. It is
   still *read* (data written by an older version), never used to encrypt once a real key exists, and
   ``core.startup`` refuses to serve beyond loopback while it is the key in use.

Rotation (``souverain keys rotate``): a new key goes first in the key file (the old ones stay, to read), then every
encrypted column of every model (fields named ``*_encrypted``) is re-encrypted row by row under the new key, then
the old keys are dropped from the file. Interrupted, it is resumed by running it again: the file still holds
several keys, so no new one is made, and rows already under the new key are skipped. With keys from the
environment, set the new key in ``SOUVERAIN_CREDENTIALS_KEY`` and the old one in
``SOUVERAIN_CREDENTIALS_OLD_KEYS``, run the rotation, then remove the old one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

ENCRYPTED_SUFFIX = "_encrypted"


class CredentialsError(Exception):
    pass


def derived_key() -> bytes:
    digest = hashlib.sha256(f"souverain-credentials:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


def key_file() -> Path:
    return Path(getattr(settings, "CREDENTIALS_KEY_FILE", "") or Path(settings.DATA_DIR) / "credentials.key")


def read_key_file(path: Path | None = None) -> list[bytes]:
    path = path or key_file()
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return []
    return [line.strip().encode() for line in text.splitlines() if line.strip()]


def write_key_file(keys: list[bytes], path: Path | None = None) -> Path:
    """Atomically, readable by the owner only (never half a file: the keys are all there is to read the data)."""
    path = path or key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write("".join(key.decode() + "\n" for key in keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class KeyRing:
    primary: bytes
    readers: tuple[bytes, ...]  # every key that may decrypt, the primary first
    source: str  # "environment", "file" or "derived"


def key_ring() -> KeyRing:
    env_key = settings.CREDENTIALS_KEY
    old = [k.encode() for k in getattr(settings, "CREDENTIALS_OLD_KEYS", []) or []]
    file_keys = read_key_file()
    if env_key:
        primary, source, others = (env_key.encode() if isinstance(env_key, str) else env_key), "environment", old
    elif file_keys:
        primary, source, others = file_keys[0], "file", [*file_keys[1:], *old]
    else:
        primary, source, others = derived_key(), "derived", old
    readers = [primary, *others, derived_key()]
    return KeyRing(primary=primary, readers=tuple(dict.fromkeys(readers)), source=source)


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in key_ring().readers])


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsError("stored credentials cannot be decrypted with the configured key") from exc


def encrypted_columns() -> Iterator[tuple[Any, str]]:
    """(model, field name) of every column holding a Fernet token."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.name.endswith(ENCRYPTED_SUFFIX):
                yield model, field.name


def reencrypt_all(ring: KeyRing | None = None) -> dict[str, int]:
    """Every stored token under the ring's primary key, row by row (each row its own short write); rows already
    under it are skipped, so running it again after an interruption finishes the work. Returns counts per
    ``app_label.model.field``."""
    ring = ring or key_ring()
    current = Fernet(ring.primary)
    every = MultiFernet([Fernet(key) for key in ring.readers])
    counts: dict[str, int] = {}
    for model, name in encrypted_columns():
        done = 0
        rows = model._default_manager.exclude(**{name: ""}).values_list("pk", name)
        for pk, token in rows.iterator(chunk_size=500):
            try:
                current.decrypt(token.encode())
                continue  # already under the new key
            except InvalidToken:
                pass
            try:
                rotated = every.rotate(token.encode()).decode()
            except InvalidToken as exc:
                raise CredentialsError(f"{model._meta.label} {pk}: {name} cannot be decrypted with any known key; "
                                       "nothing more was changed") from exc
            # A plain UPDATE of one column: no change-log row (nothing a user sees changes), no signal.
            model._default_manager.filter(pk=pk, **{name: token}).update(**{name: rotated})
            done += 1
        counts[f"{model._meta.label_lower}.{name}"] = done
    return counts


def ensure_key_file() -> bool:
    """For the embedded default: create the key file if no key is configured, and move what was encrypted under
    the derived development key to it. Returns whether a key was created."""
    if settings.CREDENTIALS_KEY or read_key_file():
        return False
    write_key_file([Fernet.generate_key()])
    reencrypt_all()
    return True


def rotate() -> dict[str, Any]:
    """Re-encrypt every stored secret under a new key (or finish an interrupted rotation); see the module's text."""
    from . import events

    ring = key_ring()
    report: dict[str, Any] = {"source": ring.source, "resumed": False}
    if ring.source == "file":
        keys = read_key_file()
        if len(keys) > 1:
            report["resumed"] = True
        else:
            write_key_file([Fernet.generate_key(), *keys])
        ring = key_ring()
    elif ring.source == "derived":
        raise CredentialsError("no credentials key is configured: run `souverain setup` (creates the key file) or set "
                               "SOUVERAIN_CREDENTIALS_KEY")
    report["rows"] = reencrypt_all(ring)
    if ring.source == "file":
        write_key_file([ring.primary])  # done: the old keys are no longer needed
    events.emit("keys.rotated", object_type="core.credentialskey", object_repr="credentials key",
                data={"source": report["source"], "resumed": report["resumed"], "rows": report["rows"]})
    return report
