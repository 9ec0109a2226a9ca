"""Where the test-bed lives and what it is made of: paths, settings from the environment, the two clouds."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

# Fixed credentials are fine: every service binds to 127.0.0.1 and the data is throw-away.
ADMIN_PASSWORD = "testbed-admin"
DEMO_PASSWORD = "testbed-demo"
SERVICE_PASSWORD = "testbed-service"
DOMAIN = "Default"

# Last two digits follow the usual OpenStack ports so a URL still says which service it is.
PORT_OFFSETS = {
    "keystone": 0,
    "nova": 74,
    "cinder": 76,
    "placement": 78,
    "glance": 92,
    "neutron": 96,
}

DEFAULT_PORT_BASE = 20000
# Own MariaDB/RabbitMQ (only on machines where none listens), as offsets from the port base: ports of their
# own, so that a system server started later does not collide with them.
OWN_PORT_OFFSETS = {"mysql": 306, "epmd": 369, "rabbit": 672, "rabbit-dist": 673}


class TestbedError(RuntimeError):
    """Anything that keeps the test-bed from coming up; the message names the service and its log."""

    __test__ = False  # its name starts with "Test": pytest would try to collect it


@dataclass(frozen=True)
class Cloud:
    name: str
    region: str
    base_port: int
    private_cidr: str
    public_cidr: str
    prefix: str = "testbed"  # of database and vhost names, which live in servers shared with others

    def port(self, service: str) -> int:
        return self.base_port + PORT_OFFSETS[service]

    def url(self, service: str) -> str:
        suffix = {"keystone": "/v3", "nova": "/v2.1", "cinder": "/v3"}.get(service, "")
        return f"http://127.0.0.1:{self.port(service)}{suffix}"

    @property
    def auth_url(self) -> str:
        return self.url("keystone")

    def database(self, service: str) -> str:
        return f"{self.prefix}_{self.name}_{service}"

    @property
    def databases(self) -> list[str]:
        names = ["keystone", "placement", "nova_api", "nova_cell0", "nova", "glance", "neutron", "cinder"]
        return [self.database(n) for n in names]

    @property
    def vhost(self) -> str:
        return f"{self.prefix}_{self.name}"


def clouds_for(port_base: int) -> tuple[Cloud, ...]:
    """The two clouds; a second test-bed on another port base gets database and vhost names of its own."""
    prefix = "testbed" if port_base == DEFAULT_PORT_BASE else f"testbed{port_base}"
    # Addresses below only ever exist in Neutron's database: nothing is routed, no traffic is sent.
    return (
        Cloud("sovereign", "fr-paris-1", port_base, "10.10.0.0/20", "203.0.113.0/24", prefix),
        Cloud("international", "eu-west-1", port_base + 100, "10.20.0.0/20", "198.51.100.0/24", prefix),
    )


CLOUDS = clouds_for(DEFAULT_PORT_BASE)


def _int_env(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise TestbedError(f"{name}={raw!r} is not an integer") from exc
    if value < minimum:
        raise TestbedError(f"{name}={value} is below {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    """Read from the environment at each call, so a test can set a variable before calling up()."""

    state_dir: Path
    page_limit: int
    computes: int
    infra: str  # auto | system | own
    timeout: int  # seconds up() waits for the services
    python: str  # interpreter that builds the services' virtualenv
    port_base: int  # sovereign uses port_base..+96, international +100..+196, own infra +306..+673

    @classmethod
    def from_env(cls) -> Settings:
        state = os.environ.get("SOUVERAIN_TESTBED_DIR") or str(REPO_ROOT / ".testbed")
        infra = os.environ.get("SOUVERAIN_TESTBED_INFRA", "auto").strip() or "auto"
        if infra not in ("auto", "system", "own"):
            raise TestbedError(f"SOUVERAIN_TESTBED_INFRA={infra!r}: use auto, system or own")
        return cls(
            state_dir=Path(state).expanduser().resolve(),
            page_limit=_int_env("SOUVERAIN_TESTBED_PAGE_LIMIT", 25),
            computes=_int_env("SOUVERAIN_TESTBED_COMPUTES", 1),
            infra=infra,
            timeout=_int_env("SOUVERAIN_TESTBED_TIMEOUT", 900),
            python=os.environ.get("SOUVERAIN_TESTBED_PYTHON") or sys.executable,
            port_base=_int_env("SOUVERAIN_TESTBED_PORT_BASE", DEFAULT_PORT_BASE, minimum=1024),
        )

    @property
    def clouds(self) -> tuple[Cloud, ...]:
        return clouds_for(self.port_base)

    def own_port(self, name: str) -> int:
        return self.port_base + OWN_PORT_OFFSETS[name]

    @property
    def venv(self) -> Path:
        return self.state_dir / "venv"

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run(self) -> Path:
        return self.state_dir / "run"

    @property
    def etc(self) -> Path:
        return self.state_dir / "etc"

    @property
    def data(self) -> Path:
        return self.state_dir / "data"

    @property
    def clouds_yaml(self) -> Path:
        return self.state_dir / "clouds.yaml"

    def etc_dir(self, c: Cloud, service: str) -> Path:
        return self.etc / c.name / service

    def data_dir(self, c: Cloud) -> Path:
        return self.data / c.name
