"""The API client side of the CLI: a stored token per profile, and JSON requests with clear errors.

A profile is one server and one user: ``souverain --profile ops login --url https://souverain.example`` keeps
that server's address and token in ``~/.config/souverain/tokens/ops.json`` (mode 0600 in a 0700 directory;
``$SOUVERAIN_CONFIG_DIR`` or ``$XDG_CONFIG_HOME/souverain`` move it), and ``--profile ops`` or
``SOUVERAIN_PROFILE=ops`` uses it; without either, the profile is ``default``. So an operator and an auditor
account, or a test and a production server, never overwrite each other's token. A token is only ever sent
to the server it was issued by: with ``SOUVERAIN_URL`` pointing elsewhere, the profile's token stays home.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_PROFILE = "default"
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: Rows per API page when the CLI pages through a list (the API's own maximum).
PAGE_SIZE = 1000


class ApiError(Exception):
    def __init__(self, status: int, message: str, body: Any = None) -> None:
        self.status = status
        self.body = body
        super().__init__(message)


def config_dir() -> Path:
    base = os.environ.get("SOUVERAIN_CONFIG_DIR") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config"), "souverain")
    return Path(base)


def profile_name(explicit: str | None = None) -> str:
    name = explicit or os.environ.get("SOUVERAIN_PROFILE") or DEFAULT_PROFILE
    if not PROFILE_NAME.match(name):
        raise ApiError(0, f"profile '{name}': use letters, digits, '.', '_' and '-' only (at most 64)")
    return name


def token_path(profile: str | None = None) -> Path:
    return config_dir() / "tokens" / f"{profile_name(profile)}.json"


def load_profile(profile: str | None = None) -> dict[str, Any]:
    path = token_path(profile)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ApiError(0, f"{path}: unreadable token file ({exc}); run `souverain login` again") from None
    return data if isinstance(data, dict) else {}


def save_token(url: str, token: str, *, username: str = "", profile: str | None = None) -> Path:
    """Write the profile's token file, readable by its owner only, atomically (never half a file)."""
    path = token_path(profile)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".token-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"url": url, "username": username, "token": token}, handle, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def describe_error(body: Any) -> str:
    """A DRF error body as one readable line: ``field: message; other: message``."""
    if isinstance(body, dict):
        if set(body) == {"detail"}:
            return describe_error(body["detail"])
        return "; ".join(f"{key}: {describe_error(value)}" for key, value in body.items())
    if isinstance(body, list):
        return "; ".join(describe_error(item) for item in body)
    return str(body)


class Client:
    def __init__(self, url: str | None = None, token: str | None = None, profile: str | None = None) -> None:
        self.profile = profile_name(profile)
        stored = load_profile(self.profile)
        self.url = (url or os.environ.get("SOUVERAIN_URL") or stored.get("url") or DEFAULT_URL).rstrip("/")
        # The profile's token belongs to the server that issued it: never sent to another one.
        own = stored.get("token") if stored.get("url", "").rstrip("/") == self.url else None
        self.token = token or os.environ.get("SOUVERAIN_TOKEN") or own

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        try:
            response = requests.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)
        except requests.ConnectionError as exc:
            raise ApiError(0, f"cannot reach the Souverain server at {self.url} (is `make run` running?)") from exc
        except requests.RequestException as exc:
            raise ApiError(0, f"{method} {path}: no answer from {self.url} ({type(exc).__name__})") from exc
        if response.status_code == 401 or (response.status_code == 403 and not self.token):
            profile = "" if self.profile == DEFAULT_PROFILE else f" --profile {self.profile}"
            login = f"souverain{profile} login"
            raise ApiError(response.status_code, f"not logged in to {self.url}: run `{login}`")
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:300]
            raise ApiError(response.status_code,
                           f"{method} {path} failed ({response.status_code}): {describe_error(body)}", body)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v not in (None, [], ())})

    def pages(self, path: str, *, page_size: int = PAGE_SIZE, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a list, in the API's order (``count`` and ``results`` each).

        Lists that give a ``next_cursor`` (inventory, violations: keyset pages) are followed by cursor: each
        page costs the server an index walk from the last row, where a deep offset would walk and drop every
        row before it, and rows written meanwhile neither repeat nor go missing. Other lists page by offset."""
        offset, cursor = 0, None
        while True:
            if cursor is None:
                page = self.get(path, limit=page_size, offset=offset, **params)
            else:
                page = self.get(path, limit=page_size, cursor=cursor, **params)
            yield page
            offset += len(page["results"])
            if not page.get("next") or not page["results"]:
                return
            cursor = page.get("next_cursor") or None

    def list_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return [item for page in self.pages(path, **params) for item in page["results"]]
