"""Listings on the real services: pages beyond the cloud's page limit, no trailing request, changes-since."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from souverain.connectors.openstack import OpenStackConnector

COUNT = 30  # more than the test-bed's page limit (25 by default)
HttpLog = Callable[[OpenStackConnector], AbstractContextManager[list[tuple[str, str, int]]]]


def _expected_pages(total: int, limit: int) -> list[int]:
    return [limit] * (total // limit) + ([total % limit] if total % limit else [])


def _listings(sent: list[tuple[str, str, int]], suffix: str) -> int:
    return sum(1 for method, path, _ in sent if method == "GET" and path.endswith(suffix))


def test_ports_listing_follows_full_pages_only(scratch: OpenStackConnector, uid: str, http_log: HttpLog) -> None:
    network = scratch.create_network(uid)
    # One bulk request instead of COUNT: setting up is not what this test measures.
    bulk = [{"network_id": network["id"], "name": f"{uid}-{i}"} for i in range(COUNT)]
    made = {port["id"] for port in scratch.connection.network.post("/ports", json={"ports": bulk}).json()["ports"]}

    with http_log(scratch) as sent:
        started = time.perf_counter()
        pages = list(scratch.iter_pages("ports"))
        elapsed = time.perf_counter() - started

    limit = len(pages[0])
    assert limit < COUNT, "the test-bed's page limit should be below COUNT"
    assert [len(p) for p in pages] == _expected_pages(COUNT, limit)
    assert {p["id"] for page in pages for p in page} == made
    assert _listings(sent, "/ports") == len(pages) + (COUNT % limit == 0)

    with http_log(scratch) as sent:
        assert [len(p) for p in scratch.iter_pages("ports", page_size=7)] == _expected_pages(COUNT, 7)
    assert _listings(sent, "/ports") == len(_expected_pages(COUNT, 7))

    with http_log(scratch) as sdk_sent:
        started = time.perf_counter()
        assert len(list(scratch.connection.network.ports(limit=limit))) == COUNT
        sdk_elapsed = time.perf_counter() - started
    print(f"\n{scratch.cloud}: {COUNT} ports in {len(pages)} pages: {elapsed * 1000:.0f} ms, {len(pages)} requests; "
          f"openstacksdk generic listing: {sdk_elapsed * 1000:.0f} ms, {_listings(sdk_sent, '/ports')} requests")


def test_servers_listing_pages_through_a_bulk_boot(scratch: OpenStackConnector, scratch_id: str,
                                                   admin: OpenStackConnector, flavor: dict[str, Any],
                                                   image: dict[str, Any], uid: str, http_log: HttpLog) -> None:
    admin.set_quotas(scratch_id, instances=COUNT, cores=COUNT, ram=COUNT * flavor["ram"])
    # Accepted at once and listed while still building (TESTBED.md pitfall 8): no need to wait for ACTIVE.
    scratch.create_server(uid, flavor_id=flavor["id"], image_id=image["id"], networks="none", min_count=COUNT)

    with http_log(scratch) as sent:
        started = time.perf_counter()
        pages = list(scratch.iter_pages("servers"))
        elapsed = time.perf_counter() - started

    limit = len(pages[0])
    assert [len(p) for p in pages] == _expected_pages(COUNT, limit)
    assert all(s["name"].startswith(uid) for page in pages for s in page)
    assert _listings(sent, "/servers/detail") == len(pages) + (COUNT % limit == 0)
    print(f"\n{scratch.cloud}: {COUNT} servers (details) in {len(pages)} pages: {elapsed * 1000:.0f} ms")


def _ours(items: Iterator[dict[str, Any]], ids: list[str]) -> list[str]:
    return [item["id"] for item in items if item["id"] in ids]


def _settle() -> datetime:
    """A time strictly after every change made so far, as the services store it.

    updated_at is kept to the second and MariaDB may round rather than truncate: two seconds clear both.
    """
    time.sleep(2.1)
    return datetime.now(UTC)


def test_changes_since_lists_only_what_changed(scratch: OpenStackConnector, flavor: dict[str, Any],
                                               image: dict[str, Any], uid: str) -> None:
    networks = [scratch.create_network(f"{uid}-{i}")["id"] for i in range(3)]
    volumes = [scratch.create_volume(1, name=f"{uid}-{i}")["id"] for i in range(2)]
    images = [scratch.create_image(f"{uid}-{i}")["id"] for i in range(2)]
    scratch.create_server(uid, flavor_id=flavor["id"], image_id=image["id"], networks="none", min_count=2)
    servers = sorted(server["id"] for server in scratch.servers())
    for volume in volumes:
        scratch.wait_for_volume(volume)
    for server in servers:
        scratch.wait_for_server(server)
    try:
        since = _settle()
        scratch.update_network(networks[1], name=f"{uid}-changed")
        scratch.update_volume(volumes[0], name=f"{uid}-changed")
        scratch.update_image(images[1], name=f"{uid}-changed")
        scratch.update_server(servers[0], name=f"{uid}-changed")

        # The project sees the test-bed's shared networks and public images too: look at ours only.
        assert _ours(scratch.networks(changes_since=since), networks) == [networks[1]]
        assert [v["id"] for v in scratch.volumes(changes_since=since)] == [volumes[0]]
        assert _ours(scratch.images(changes_since=since), images) == [images[1]]
        assert [s["id"] for s in scratch.servers(changes_since=since)] == [servers[0]]
        assert len(_ours(scratch.networks(), networks)) == 3

        later = _settle()
        scratch.delete_server(servers[1])
        scratch.wait_for_delete("servers", servers[1])
        deleted = list(scratch.servers(changes_since=later))
        assert [(s["id"], s["status"]) for s in deleted] == [(servers[1], "DELETED")]  # Nova shows deletions
    finally:
        for image_id in images:
            scratch.delete_image(image_id)


def test_projects_are_listed_in_one_request(admin: OpenStackConnector, http_log: HttpLog) -> None:
    # Keystone does not page: a page size is ignored rather than turned into a loop.
    with http_log(admin) as sent:
        pages = list(admin.iter_pages("projects", page_size=1))
    assert len(pages) == 1 and {"admin", "demo"} <= {p["name"] for p in pages[0]}
    assert _listings(sent, "/projects") == 1
