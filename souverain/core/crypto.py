"""Encryption at rest for cloud credentials (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class CredentialsError(Exception):
    pass


def _fernet() -> Fernet:
    key = settings.CREDENTIALS_KEY
    if not key:
        # Derive a stable key from SECRET_KEY so the embedded default works without extra set-up.
        digest = hashlib.sha256(f"souverain-credentials:{settings.SECRET_KEY}".encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise CredentialsError("stored credentials cannot be decrypted with the configured key") from exc
