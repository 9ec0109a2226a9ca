"""One service stopped mid-test: its calls are Unavailable, everything else keeps working, then it returns.

``testbed.outage`` stops the service by process key and brings it back with ``testbed.up()``, which starts
whatever is missing and waits until every API answers; outages of parallel test processes take turns. The
outage lasts seconds, but other suites using the sovereign cloud's volumes at that moment would notice it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

import testbed
from souverain.connectors import Unavailable, get_connector
from souverain.connectors.openstack import OpenStackConnector
from souverain.connectors.retry import RetryPolicy

CLOUD = "sovereign"
QUICK = RetryPolicy(attempts=2, base_delay=0.2, max_delay=0.5)


def _connector(cloud: str) -> OpenStackConnector:
    connector = get_connector("openstack", cloud=cloud, retry=QUICK)
    assert isinstance(connector, OpenStackConnector)
    return connector


@pytest.fixture
def cinder_down(clouds_yaml: Path) -> Iterator[None]:
    with testbed.outage(f"{CLOUD}-cinder-api"):
        yield


def _answers_again(connector: OpenStackConnector, deadline: float) -> float:
    started = time.monotonic()
    while True:
        try:
            list(connector.volumes())
            return time.monotonic() - started
        except Unavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def names(resources: Iterable[dict]) -> set[str]:
    return {r["name"] for r in resources}


def test_a_stopped_volume_api_is_unavailable_and_the_rest_works(clouds_yaml: Path, request: pytest.FixtureRequest,
                                                                 uid: str, cleanup: Callable[..., None]) -> None:
    warm = _connector(CLOUD)  # has discovered Cinder before the outage
    other_cloud = _connector("international")
    list(warm.volumes())
    # Something of our own on the other cloud's volume API, to find in its listing during the outage.
    mine = other_cloud.create_volume(1, name=uid)
    cleanup(other_cloud.delete_volume, mine["id"])

    request.getfixturevalue("cinder_down")
    cold = _connector(CLOUD)  # meets the outage at discovery

    with pytest.raises(Unavailable) as listing:
        list(warm.volumes())
    with pytest.raises(Unavailable):
        warm.create_volume(1, name=uid)  # a POST: not retried, still Unavailable
    with pytest.raises(Unavailable):
        list(cold.volumes())
    assert listing.value.cloud == CLOUD and listing.value.status is None
    assert warm.supports("volumes")  # still in the catalog: down is not absent

    # The rest answers with its real content, not merely without an error: the test-bed's own networks and
    # image (testbed/README.md), the same servers for both connectors, our volume on the other cloud.
    assert {"shared", "public"} <= names(warm.networks())
    assert "testbed-tiny" in names(cold.images())
    for _ in range(3):  # other suites may create a server between the two listings: list again then
        servers = {s["id"] for s in warm.servers()}
        if servers == {s["id"] for s in cold.servers()}:
            break
    else:
        pytest.fail("the warm and the cold connector never listed the same servers during the outage")
    assert mine["id"] in {v["id"] for v in other_cloud.volumes()}

    started = time.monotonic()
    testbed.up()
    waited = _answers_again(warm, time.monotonic() + 120)
    _answers_again(cold, time.monotonic() + 30)
    print(f"\n{CLOUD} cinder-api back after {time.monotonic() - started:.1f}s (then answered in {waited:.1f}s)")
