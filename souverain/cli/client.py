"""The API client side of the CLI: a stored token per server, and JSON requests with clear errors."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import requests

DEFAULT_URL = os.environ.get("SOUVERAIN_URL", "http://127.0.0.1:8000")


def config_path() -> Path:
    base = os.environ.get("SOUVERAIN_CONFIG_DIR") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config")), "souverain")
    return Path(base) / "credentials.json"


class ApiError(Exception):
    def __init__(self, status: int, message: str, body: Any = None) -> None:
        self.status = status
        self.body = body
        super().__init__(message)


def save_token(url: str, token: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["current"] = url
    data.setdefault("servers", {})[url] = {"token": token}
    # The token is a credential: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    return path


class Client:
    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        stored = json.loads(config_path().read_text()) if config_path().exists() else {}
        self.url = (url or os.environ.get("SOUVERAIN_URL") or stored.get("current") or DEFAULT_URL).rstrip("/")
        self.token = token or os.environ.get("SOUVERAIN_TOKEN") or (
            stored.get("servers", {}).get(self.url, {}).get("token"))

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        try:
            response = requests.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)
        except requests.ConnectionError as exc:
            raise ApiError(0, f"cannot reach the Souverain server at {self.url} (is `make run` running?)") from exc
        if response.status_code == 401 or (response.status_code == 403 and not self.token):
            raise ApiError(response.status_code, f"not logged in to {self.url}: run `souverain login`")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:300]
            raise ApiError(response.status_code, f"{method} {path} failed ({response.status_code}): {body}", body)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def list_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self.get(path, limit=200, offset=offset, **params)
            items.extend(page["results"])
            offset += len(page["results"])
            if not page.get("next") or not page["results"]:
                return items
