"""Transient failures are retried with bounded, jittered exponential backoff; the rest are not."""

from __future__ import annotations

import pytest
import requests
import requests_mock

from souverain.connectors import Timeout, Unavailable
from souverain.connectors.openstack import OpenStackConnector
from souverain.connectors.retry import RetryPolicy

from .conftest import Sleeps
from .fakecloud import NEUTRON, NOVA

UNAVAILABLE = {"status_code": 503, "json": {"message": "try later"}, "headers": {"x-openstack-request-id": "req-503"}}


def test_503_then_success_is_retried_after_a_backoff(member: OpenStackConnector, http: requests_mock.Mocker,
                                                     sleeps: Sleeps) -> None:
    route = http.get(NOVA + "/servers/detail", [UNAVAILABLE, {"json": {"servers": [{"id": "s1"}]}}])

    assert list(member.servers()) == [{"id": "s1"}]
    assert route.call_count == 2
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5  # first retry: between half and all of base_delay


def test_retries_are_bounded_and_the_last_error_is_raised(member: OpenStackConnector, http: requests_mock.Mocker,
                                                          sleeps: Sleeps) -> None:
    route = http.get(NOVA + "/servers/detail", [UNAVAILABLE] * 5)

    with pytest.raises(Unavailable) as caught:
        list(member.servers())

    assert route.call_count == 3  # attempts=3 in the fixture's policy
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # doubling ceiling, jittered
    assert caught.value.status == 503 and caught.value.request_id == "req-503"


def test_a_post_is_not_retried_by_default(member: OpenStackConnector, http: requests_mock.Mocker,
                                          sleeps: Sleeps) -> None:
    route = http.post(NEUTRON + "/networks", [UNAVAILABLE, {"status_code": 201, "json": {"network": {"id": "n"}}}])

    with pytest.raises(Unavailable):
        member.create_network("net")

    assert route.call_count == 1 and sleeps == []


def test_dropped_connections_and_timeouts_are_retried(member: OpenStackConnector, http: requests_mock.Mocker,
                                                     sleeps: Sleeps) -> None:
    route = http.get(NEUTRON + "/ports", [{"exc": requests.exceptions.ConnectionError("reset by peer")},
                                          {"exc": requests.exceptions.ReadTimeout("read timed out")},
                                          {"json": {"ports": [{"id": "p"}]}}])

    assert list(member.ports()) == [{"id": "p"}]
    assert route.call_count == 3 and len(sleeps) == 2


def test_a_timeout_that_persists_is_a_timeout(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(NEUTRON + "/ports", exc=requests.exceptions.ConnectTimeout("no answer"))

    with pytest.raises(Timeout) as caught:
        list(member.ports())
    assert caught.value.cloud == "fake" and caught.value.status is None


def test_retry_after_is_honoured_within_the_bound(member: OpenStackConnector, http: requests_mock.Mocker,
                                                  sleeps: Sleeps) -> None:
    slow_down = {"status_code": 429, "headers": {"Retry-After": "3"}, "json": {"message": "slow down"}}
    too_long = {"status_code": 429, "headers": {"Retry-After": "120"}, "json": {"message": "slow down"}}
    http.get(NOVA + "/servers/detail", [slow_down, too_long, {"json": {"servers": []}}])

    list(member.servers())

    assert sleeps == [3.0, 4.0]  # what the server asked, then capped at max_delay


def test_policy_delays_grow_exponentially_with_jitter_and_are_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (9, 5.0)):
        delays = {policy.delay(retry) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_a_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
