"""Fixtures for the connector unit tests: a fake cloud at the HTTP layer, connectors on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests_mock

from souverain.connectors import get_connector
from souverain.connectors.openstack import OpenStackConnector
from souverain.connectors.retry import RetryPolicy

from .fakecloud import CONFIG, FakeCloud


class Sleeps(list[float]):
    """Records the delays a RetryPolicy asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def http() -> Iterator[requests_mock.Mocker]:
    with requests_mock.Mocker() as mock:
        yield mock


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_connector(http: requests_mock.Mocker, sleeps: Sleeps) -> Callable[..., tuple[OpenStackConnector, FakeCloud]]:
    """Build (connector, fake cloud); keyword arguments go to FakeCloud (roles, object_store)."""

    def make(*, retry: RetryPolicy | None = None, **cloud: Any) -> tuple[OpenStackConnector, FakeCloud]:
        fake = FakeCloud(http, **cloud)
        policy = retry or RetryPolicy(attempts=3, base_delay=0.5, max_delay=4.0, sleep=sleeps)
        connector = get_connector("openstack", config=CONFIG, name="fake", retry=policy)
        assert isinstance(connector, OpenStackConnector)
        return connector, fake

    return make


@pytest.fixture
def member(make_connector: Callable[..., tuple[OpenStackConnector, FakeCloud]]) -> OpenStackConnector:
    return make_connector()[0]


@pytest.fixture
def admin(make_connector: Callable[..., tuple[OpenStackConnector, FakeCloud]]) -> OpenStackConnector:
    return make_connector(roles=("admin", "member"))[0]
