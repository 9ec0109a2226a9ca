"""Functional tests of the cloud connectors against the real test-bed (two OpenStack clouds on loopback).

The session starts the test-bed if needed (``testbed.up()``); when it cannot come up the tests error out
rather than skip, because a green run must mean the connectors were exercised. Every test creates what it
needs and removes it, including when it fails; tests that count objects work in a project of their own
(``scratch``), where the listing holds exactly what the test made.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml

import testbed
from souverain.connectors import ConnectorError, NotFound, get_connector
from souverain.connectors.openstack import OpenStackConnector

CLOUDS = ("sovereign", "international")
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.testbed)


@pytest.fixture(scope="session")
def clouds_yaml() -> Iterator[Path]:
    """Bring the test-bed up (a no-op when it already answers) and point openstacksdk at its clouds.yaml."""
    path = testbed.up()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        yield path


@pytest.fixture(scope="session")
def cloud_entries(clouds_yaml: Path) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = yaml.safe_load(clouds_yaml.read_text())["clouds"]
    return entries


@pytest.fixture(scope="session", params=CLOUDS)
def cloud_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def conn(clouds_yaml: Path, cloud_name: str) -> OpenStackConnector:
    """The demo project's member, from the clouds.yaml entry."""
    return _connector(cloud=cloud_name)


@pytest.fixture(scope="session")
def admin(clouds_yaml: Path, cloud_name: str) -> OpenStackConnector:
    return _connector(cloud=f"{cloud_name}-admin")


@pytest.fixture
def uid() -> str:
    """A name prefix unique to the test, so that left-overs are recognisable."""
    return f"ft-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cleanup(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``cleanup(fn, *args, **kwargs)`` calls ``fn`` after the test, last registered first (like addCleanup)."""

    def register(fn: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        request.addfinalizer(lambda: fn(*args, **kwargs))

    return register


@pytest.fixture
def scratch_id(scratch: OpenStackConnector) -> str:
    """The scratch project's id."""
    project_id = scratch.connection.current_project_id
    assert project_id
    return project_id


@pytest.fixture
def http_log() -> Callable[[OpenStackConnector], AbstractContextManager[list[tuple[str, str, int]]]]:
    """``with http_log(connector) as sent:`` collects (method, path, status) of every HTTP exchange meanwhile."""

    @contextmanager
    def log(connector: OpenStackConnector) -> Iterator[list[tuple[str, str, int]]]:
        sent: list[tuple[str, str, int]] = []
        hooks = connector.connection.session.session.hooks["response"]  # the requests.Session under keystoneauth

        def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
            sent.append((str(response.request.method), str(urlsplit(response.request.url).path), response.status_code))

        hooks.append(record)
        try:
            yield sent
        finally:
            hooks.remove(record)

    return log


@pytest.fixture(scope="session")
def flavor(admin: OpenStackConnector) -> Iterator[dict[str, Any]]:
    created = admin.create_flavor(f"ft-{uuid.uuid4().hex[:6]}", ram=64, vcpus=1, disk=1)
    yield created
    admin.delete_flavor(created["id"])


@pytest.fixture(scope="session")
def image(admin: OpenStackConnector) -> Iterator[dict[str, Any]]:
    created = admin.create_image(f"ft-{uuid.uuid4().hex[:6]}", data=b"\0" * 4096, visibility="public")
    yield created
    admin.delete_image(created["id"])


@pytest.fixture(scope="session")
def external_network(admin: OpenStackConnector) -> dict[str, Any]:
    """The test-bed's external network (seeded as "public"): floating IPs come from it."""
    found = [n for n in admin.networks() if n.get("router:external")]
    assert found, "the test-bed has no external network"
    return found[0]


@pytest.fixture
def scratch(admin: OpenStackConnector, cloud_entries: dict[str, dict[str, Any]], cloud_name: str,
            uid: str) -> Iterator[OpenStackConnector]:
    """A connector for a new, empty project (the admin user as its member), built from an explicit config.

    Anything the test leaves there is removed afterwards, then the project itself.
    """
    project = admin.create_project(uid, description="connector functional test")
    identity = admin.connection.identity  # role assignment is not the connector's business: raw Keystone calls
    member = identity.get("/roles", params={"name": "member"}).json()["roles"][0]["id"]
    user = admin.connection.current_user_id
    identity.put(f"/projects/{project['id']}/users/{user}/roles/{member}").raise_for_status()
    config = copy.deepcopy(cloud_entries[f"{cloud_name}-admin"])
    config["auth"].pop("project_name")
    config["auth"].pop("project_domain_name")
    config["auth"]["project_id"] = project["id"]
    connector = _connector(config=config, name=f"{cloud_name}/{uid}")
    try:
        yield connector
    finally:
        sweep(connector)
        admin.delete_project(project["id"])


def _connector(**config: Any) -> OpenStackConnector:
    connector = get_connector("openstack", **config)
    assert isinstance(connector, OpenStackConnector)
    return connector


def sweep(connector: OpenStackConnector) -> None:
    """Delete what a scratch project holds, dependants first.

    A member lists only its project's servers, volumes, ports and routers, but also sees shared networks
    (and their subnets) and public images: those are filtered on their owner. Listings are read whole
    before deleting: the next page starts after the last item of the previous one, which must still exist.
    """
    assert not connector.lists_all_projects(), "refusing to sweep with credentials that see every project"
    own = connector.connection.current_project_id

    def owned(items: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
        return [item for item in items if item.get("project_id", item.get("owner")) == own]

    _drain_servers(connector)
    for fip in list(connector.floating_ips()):
        _quietly(connector.delete_floating_ip, fip["id"])
    for port in list(connector.ports()):
        if port["device_owner"] == "network:router_interface":
            _quietly(connector.remove_interface_from_router, port["device_id"], port_id=port["id"])
    for router in list(connector.routers()):
        _quietly(connector.delete_router, router["id"])
    _each(connector.delete_port, [port["id"] for port in connector.ports()])
    for kind, delete in (("snapshots", connector.delete_snapshot), ("volumes", connector.delete_volume)):
        doomed = [item["id"] for page in connector.iter_pages(kind) for item in page]
        for item_id in doomed:
            _quietly(delete, item_id)
        for item_id in doomed:
            _quietly(connector.wait_for_delete, kind, item_id)
    for image in owned(connector.images()):
        _quietly(connector.delete_image, image["id"])
    for subnet in owned(connector.subnets()):
        _quietly(connector.delete_subnet, subnet["id"])
    for network in owned(connector.networks()):
        _quietly(connector.delete_network, network["id"])
    for group in list(connector.security_groups()):
        if group["name"] != "default":
            _quietly(connector.delete_security_group, group["id"])


def _drain_servers(connector: OpenStackConnector, patience: float = 300) -> None:
    """Delete servers until none is listed: one deleted while Nova schedules it can reappear in ERROR."""
    deadline = time.monotonic() + patience
    while servers := list(connector.servers()):
        if time.monotonic() > deadline:
            print(f"sweep: {len(servers)} servers left in {connector.cloud}")
            return
        _each(connector.delete_server, [server["id"] for server in servers])
        time.sleep(2)


def _each(delete: Callable[[str], object], ids: list[str]) -> None:
    # Deleting dozens of objects one after the other is most of a scratch project's teardown.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda object_id: _quietly(delete, object_id), ids))


def _quietly(fn: Callable[..., object], *args: Any, **kwargs: Any) -> None:
    # A sweep must go on past one stubborn object: the project is deleted anyway.
    try:
        fn(*args, **kwargs)
    except NotFound:
        pass
    except ConnectorError as exc:
        print(f"sweep: {fn.__name__}{args}: {exc}")
