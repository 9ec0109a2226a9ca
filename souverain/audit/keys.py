"""The Ed25519 key that signs checkpoints: a PEM file, 0600, made on first use.

``SOUVERAIN_AUDIT_KEY_FILE`` (default ``$SOUVERAIN_DATA_DIR/audit-ed25519.pem``). Created with ``O_EXCL`` so two
processes starting at once cannot each write a different key: the loser reads the winner's.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings


def key_file() -> Path:
    configured = os.environ.get("SOUVERAIN_AUDIT_KEY_FILE") or getattr(settings, "SOUVERAIN_AUDIT_KEY_FILE", "")
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit-ed25519.pem"


def signing_key() -> Ed25519PrivateKey:
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key
