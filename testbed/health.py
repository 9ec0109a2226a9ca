"""Wait for services to answer real HTTP requests, and a tiny Keystone-authenticated REST client.

Standard library only (Souverain's interpreter runs this), with a timeout on every request: an OpenStack API that
failed to load can accept connections and never answer.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from typing import Any

from testbed import supervise
from testbed.layout import DOMAIN, Settings, TestbedError
from testbed.supervise import Proc


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """HTTP status of a GET, any status counting as an answer; None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def fail(s: Settings, proc: Proc, why: str) -> TestbedError:
    log = supervise.log_path(s, proc.key)
    return TestbedError(f"{proc.cloud} {proc.name} {why}; log: {log}\n--- last lines ---\n{supervise.tail(log, 40)}")


def wait_answering(s: Settings, procs: Iterable[Proc], deadline: float) -> None:
    """Until every API answers HTTP; raises at once, naming the service and its log, when one dies."""
    waiting = list(procs)
    while waiting:
        for proc in list(waiting):
            if supervise.running(s, proc.key) is None:
                raise fail(s, proc, "exited while starting")
            if proc.url is None or http_status(proc.url, timeout=3) is not None:
                waiting.remove(proc)
        if waiting:
            if time.monotonic() > deadline:
                names = ", ".join(p.key for p in waiting)
                raise fail(s, waiting[0], f"did not answer in time (still waiting for: {names})")
            time.sleep(0.5)


def check_alive(s: Settings, procs: Iterable[Proc]) -> None:
    for proc in procs:
        if supervise.running(s, proc.key) is None:
            raise fail(s, proc, "is not running")


class Session:
    """Password-authenticated, project-scoped Keystone session against one cloud."""

    def __init__(self, auth_url: str, username: str, password: str, project: str, timeout: float = 60.0) -> None:
        self.auth_url = auth_url
        self.timeout = timeout
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": username, "domain": {"name": DOMAIN}, "password": password}},
                },
                "scope": {"project": {"name": project, "domain": {"name": DOMAIN}}},
            }
        }
        status, payload, headers = self._send("POST", f"{auth_url}/auth/tokens", body, token=None)
        if status != 201:
            raise TestbedError(f"Keystone {auth_url} refused {username}/{project}: HTTP {status} {payload}")
        self.token = headers["X-Subject-Token"]
        self.project_id: str = payload["token"]["project"]["id"]
        self.user_id: str = payload["token"]["user"]["id"]

    def _send(
        self,
        method: str,
        url: str,
        body: Any,
        token: str | None,
        raw: bytes | None = None,
        microversion: str = "",
        subject: str = "",
    ) -> tuple[int, Any, dict[str, str]]:
        headers = {"Accept": "application/json"}
        if subject:
            headers["X-Subject-Token"] = subject
        data = None
        if raw is not None:
            data, headers["Content-Type"] = raw, "application/octet-stream"
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if token:
            headers["X-Auth-Token"] = token
        if microversion:
            headers["OpenStack-API-Version"] = microversion
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read()
                return int(response.status), json.loads(text) if text.strip() else None, dict(response.headers)
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text.decode(errors="replace")
            return int(exc.code), payload, dict(exc.headers)

    def call(self, method: str, url: str, body: Any = None, ok: Iterable[int] = (200, 201, 202, 204), **kw: Any) -> Any:
        status, payload, _ = self._send(method, url, body, self.token, **kw)
        if status not in tuple(ok):
            raise TestbedError(f"{method} {url} -> HTTP {status}: {payload}")
        return payload
