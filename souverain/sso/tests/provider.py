"""A real OpenID provider (testbed/oidc/provider.mjs, panva's oidc-provider on Node) on a free loopback port.

``running_provider(redirect_uris, logout_uris, users)`` installs its npm packages if needed
(testbed/oidc/install.sh: ``npm ci`` from the lock, offline from npm's cache), starts it, waits for its discovery
document and yields the issuer; the process is stopped (SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[3]
INSTALL = ROOT / "testbed" / "oidc" / "install.sh"
TARGET = ROOT / "var" / "oidc-provider"
CLIENT_ID = "souverain"
CLIENT_SECRET = "souverain-test-secret"
API_AUDIENCE = "urn:souverain:api"

USERS: dict[str, dict[str, Any]] = {
    # Mapped by the ``groups`` claim to the example estate's home tenant as tenant admin.
    "alice": {"email": "alice@ministere.example", "email_verified": True, "name": "Alice Dupré",
              "groups": ["ministere:tenant-admin"]},
    # Mapped by nothing: refused.
    "mallory": {"email": "mallory@elsewhere.example", "email_verified": True, "name": "Mallory Nobody",
                "groups": ["visitors"]},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_provider(redirect_uris: list[str], logout_uris: list[str],
                     users: dict[str, dict[str, Any]] | None = None) -> Iterator[str]:
    subprocess.run(["bash", str(INSTALL)], check=True, env={**os.environ, "SOUVERAIN_OIDC_TESTBED": str(TARGET)},
                   stdout=subprocess.DEVNULL)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {**os.environ, "OP_PORT": str(port), "OP_REDIRECT_URIS": ",".join(redirect_uris),
           "OP_LOGOUT_URIS": ",".join(logout_uris), "OP_USERS": json.dumps(users or USERS),
           "OP_CLIENT_SECRET": CLIENT_SECRET, "OP_API_AUDIENCE": API_AUDIENCE}
    log = open(TARGET / "provider.log", "wb")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(["node", "provider.mjs"], cwd=TARGET, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the test provider exited: {(TARGET / 'provider.log').read_text()[-2000:]}")
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the test provider did not answer within 20 s")
            time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def sso_settings(issuer: str) -> dict[str, Any]:
    """Django settings pointing at the provider, with rules mapping alice's group to the home tenant."""
    return {
        "SOUVERAIN_OIDC_ISSUER": issuer, "SOUVERAIN_OIDC_CLIENT_ID": CLIENT_ID,
        "SOUVERAIN_OIDC_CLIENT_SECRET": CLIENT_SECRET, "SOUVERAIN_OIDC_PROVIDER_NAME": "Loopback OP",
        "SOUVERAIN_OIDC_API_AUDIENCE": API_AUDIENCE, "SOUVERAIN_OIDC_MAPPING": "",
        "SOUVERAIN_OIDC_RULES": [{"claim": "groups", "value": "ministere:tenant-admin", "tenant": "ministere",
                                  "role": "tenant-admin"}],
    }
