"""iter_pages: one request per page, no trailing empty page, next links and markers, incremental filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests_mock

from souverain.connectors import ConnectorError, NotSupported
from souverain.connectors.openstack import OpenStackConnector

from .fakecloud import CINDER, GLANCE, KEYSTONE_PROJECTS, NEUTRON, NOVA, SWIFT

T0 = datetime(2026, 11, 25, 17, 8, 9, 750_000, tzinfo=UTC)


def _servers(start: int, count: int) -> list[dict[str, str]]:
    return [{"id": f"s{i:03d}", "name": f"vm-{i}"} for i in range(start, start + count)]


def _nova_page(start: int, count: int, full: bool) -> dict[str, object]:
    links = [{"rel": "next", "href": f"http://nova.test/v2.1/servers/detail?limit=3&marker=s{start + count - 1:03d}"}]
    return {"servers": _servers(start, count), **({"servers_links": links} if full else {})}


def test_follows_next_links_and_stops_on_a_short_page(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    route = http.get(NOVA + "/servers/detail", [{"json": _nova_page(0, 3, True)}, {"json": _nova_page(3, 3, True)},
                                               {"json": _nova_page(6, 1, False)}])

    pages = list(member.iter_pages("servers", page_size=3))

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [p[0]["id"] for p in pages] == ["s000", "s003", "s006"]
    assert route.call_count == 3  # and no fourth, empty page
    sent = [r.qs for r in route.request_history]
    assert sent[0] == {"limit": ["3"]}
    assert sent[1] == {"limit": ["3"], "marker": ["s002"]}
    assert sent[2] == {"limit": ["3"], "marker": ["s005"]}


def test_a_short_first_page_is_the_only_request(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    route = http.get(NOVA + "/servers/detail", json=_nova_page(0, 2, False))

    assert [len(p) for p in member.iter_pages("servers", page_size=3)] == [2]
    assert route.call_count == 1


def test_a_cloud_capping_the_page_size_is_still_followed(member: OpenStackConnector,
                                                         http: requests_mock.Mocker) -> None:
    # We ask for 1000, Nova's max_limit is 3: a page of 3 with a next link is a full page.
    route = http.get(NOVA + "/servers/detail", [{"json": _nova_page(0, 3, True)}, {"json": _nova_page(3, 2, False)}])

    assert sum(len(p) for p in member.iter_pages("servers")) == 5
    assert route.request_history[0].qs["limit"] == ["1000"]
    assert route.call_count == 2


def test_an_empty_listing_yields_no_page(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(NEUTRON + "/ports", json={"ports": [], "ports_links": []})

    assert list(member.iter_pages("ports")) == []


def test_glance_next_in_the_body(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    route = http.get(GLANCE + "/images", [
        {"json": {"images": [{"id": "i1"}, {"id": "i2"}], "next": "/v2/images?marker=i2&limit=2"}},
        {"json": {"images": [{"id": "i3"}]}},
    ])

    assert [[i["id"] for i in p] for p in member.iter_pages("images", page_size=2)] == [["i1", "i2"], ["i3"]]
    assert route.request_history[1].qs == {"limit": ["2"], "marker": ["i2"]}


def test_neutron_links_and_admin_lists_every_project_without_asking(admin: OpenStackConnector,
                                                                    http: requests_mock.Mocker) -> None:
    next_link = [{"rel": "next", "href": "http://neutron.test/v2.0/networks?limit=2&marker=n2"},
                 {"rel": "previous", "href": "http://neutron.test/v2.0/networks?limit=2&marker=n1&page_reverse=True"}]
    route = http.get(NEUTRON + "/networks", [
        {"json": {"networks": [{"id": "n1"}, {"id": "n2"}], "networks_links": next_link}},
        {"json": {"networks": [{"id": "n3"}], "networks_links": next_link[1:]}},
    ])

    assert sum(len(p) for p in admin.iter_pages("networks", page_size=2)) == 3
    assert route.request_history[1].qs == {"limit": ["2"], "marker": ["n2"]}


def test_swift_has_no_links_so_only_a_full_page_is_followed(make_connector, http: requests_mock.Mocker) -> None:
    connector, _ = make_connector(object_store=True)
    route = http.get(SWIFT + "/", [{"json": [{"name": "a"}, {"name": "b"}]}, {"json": [{"name": "c"}]}])

    assert [[c["name"] for c in p] for p in connector.iter_pages("containers", page_size=2)] == [["a", "b"], ["c"]]
    assert route.request_history[0].qs == {"format": ["json"], "limit": ["2"]}
    assert route.request_history[1].qs == {"format": ["json"], "limit": ["2"], "marker": ["b"]}


def test_containers_are_not_supported_without_object_storage(member: OpenStackConnector) -> None:
    assert member.supports("servers")
    assert not member.supports("containers")
    with pytest.raises(NotSupported) as caught:
        member.iter_pages("containers")
    assert caught.value.cloud == "fake"
    assert "object-store" in str(caught.value)
    with pytest.raises(NotSupported):
        member.create_container("bucket")


def test_unknown_kind_is_a_programming_error(member: OpenStackConnector) -> None:
    with pytest.raises(ValueError, match="unknown resource kind"):
        member.iter_pages("lollipops")


@pytest.mark.parametrize(
    ("kind", "url", "expected"),
    [
        ("servers", NOVA + "/servers/detail", {"changes-since": ["2026-11-25t17:08:09z"]}),
        ("volumes", CINDER + "/volumes/detail", {"updated_at": ["gte:2026-11-25t17:08:09z"]}),
        ("snapshots", CINDER + "/snapshots/detail", {}),
        ("networks", NEUTRON + "/networks", {"changed_since": ["2026-11-25t17:08:09z"]}),
        ("security_group_rules", NEUTRON + "/security-group-rules", {"changed_since": ["2026-11-25t17:08:09z"]}),
        ("floating_ips", NEUTRON + "/floatingips", {"changed_since": ["2026-11-25t17:08:09z"]}),
        ("images", GLANCE + "/images", {"updated_at": ["gte:2026-11-25t17:08:09z"]}),
        ("flavors", NOVA + "/flavors/detail", {}),
    ],
)
def test_changes_since_uses_each_services_filter_floored_to_the_second(
    member: OpenStackConnector, http: requests_mock.Mocker, kind: str, url: str, expected: dict[str, list[str]]
) -> None:
    plural = {"floating_ips": "floatingips"}.get(kind, kind)
    route = http.get(url, json={plural: []})

    list(member.iter_pages(kind, changes_since=T0))

    assert route.request_history[0].qs == {"limit": ["1000"], **expected}


def test_without_a_service_filter_the_listing_is_filtered_on_updated_at(member: OpenStackConnector,
                                                                        http: requests_mock.Mocker) -> None:
    http.get(CINDER + "/snapshots/detail", json={"snapshots": [
        {"id": "old", "updated_at": "2026-11-25T17:08:08.999999"},  # Cinder's naive UTC
        {"id": "same-second", "updated_at": "2026-11-25T17:08:09.000000"},
        {"id": "new", "updated_at": "2026-11-25T18:00:00Z"},
        {"id": "never-updated", "updated_at": None},  # kept: unknown is not old
    ]})

    ids = [s["id"] for page in member.iter_pages("snapshots", changes_since=T0) for s in page]

    assert ids == ["same-second", "new", "never-updated"]


def test_a_refused_time_filter_falls_back_to_filtering_here_once(member: OpenStackConnector,
                                                                  http: requests_mock.Mocker) -> None:
    refused = {"status_code": 400, "json": {"NeutronError": {
        "type": "HTTPBadRequest", "message": "['changed_since'] is invalid attribute for filtering"}}}
    listing = {"json": {"ports": [{"id": "p-old", "updated_at": "2026-11-25T17:00:00Z"},
                                  {"id": "p-new", "updated_at": "2026-11-25T17:30:00Z"}]}}
    route = http.get(NEUTRON + "/ports", [refused, listing, listing])

    first = [p["id"] for p in member.ports(changes_since=T0)]
    second = [p["id"] for p in member.ports(changes_since=T0)]

    assert first == second == ["p-new"]
    assert [("changed_since" in r.qs) for r in route.request_history] == [True, False, False]


def test_a_bad_request_unrelated_to_the_filter_is_raised(member: OpenStackConnector,
                                                         http: requests_mock.Mocker) -> None:
    http.get(NEUTRON + "/ports", status_code=400, json={"NeutronError": {"message": "limit must be positive"}})

    with pytest.raises(ConnectorError, match="limit must be positive"):
        list(member.ports(changes_since=T0))


def test_changes_since_is_converted_to_utc_and_naive_means_utc(member: OpenStackConnector,
                                                                http: requests_mock.Mocker) -> None:
    route = http.get(NOVA + "/servers/detail", json={"servers": []})
    paris = timezone(timedelta(hours=1))

    list(member.iter_pages("servers", changes_since=T0.astimezone(paris)))
    list(member.iter_pages("servers", changes_since=T0.replace(tzinfo=None)))

    assert [r.qs["changes-since"] for r in route.request_history] == [["2026-11-25t17:08:09z"]] * 2


def test_old_cinder_without_time_filter_gets_a_full_listing(member: OpenStackConnector,
                                                            http: requests_mock.Mocker) -> None:
    old = {"id": "v3.0", "status": "CURRENT", "version": "3.59", "min_version": "3.0",
           "links": [{"rel": "self", "href": "http://cinder.test/v3/"}]}
    http.get("http://cinder.test/v3/", json={"versions": [old]})
    route = http.get(CINDER + "/volumes/detail", json={"volumes": [{"id": "v1"}]})

    assert list(member.iter_pages("volumes", changes_since=T0)) == [[{"id": "v1"}]]  # no updated_at: kept
    assert route.request_history[0].qs == {"limit": ["1000"]}
    assert route.request_history[0].headers["OpenStack-API-Version"] == "volume 3.59"


def test_admin_listings_ask_for_every_project(admin: OpenStackConnector, http: requests_mock.Mocker) -> None:
    servers = http.get(NOVA + "/servers/detail", json={"servers": []})
    volumes = http.get(CINDER + "/volumes/detail", json={"volumes": []})
    flavors = http.get(NOVA + "/flavors/detail", json={"flavors": []})

    for kind in ("servers", "volumes", "flavors"):
        list(admin.iter_pages(kind))

    assert servers.request_history[0].qs["all_tenants"] == ["1"]
    assert volumes.request_history[0].qs["all_tenants"] == ["1"]
    assert flavors.request_history[0].qs["is_public"] == ["none"]


def test_member_listings_stay_in_their_project(member: OpenStackConnector, http: requests_mock.Mocker) -> None:
    servers = http.get(NOVA + "/servers/detail", json={"servers": []})

    list(member.iter_pages("servers"))

    assert "all_tenants" not in servers.request_history[0].qs
    assert not member.lists_all_projects()


def test_projects_are_not_paged_and_members_list_their_own(make_connector, http: requests_mock.Mocker) -> None:
    own = http.get(KEYSTONE_PROJECTS.replace("/projects", "/auth/projects"), json={"projects": [{"id": "p1"}]})
    every = http.get(KEYSTONE_PROJECTS, json={"projects": [{"id": "p1"}, {"id": "p2"}], "links": {"next": None}})

    member, _ = make_connector()
    assert list(member.projects()) == [{"id": "p1"}]
    admin, _ = make_connector(roles=("admin",))
    assert [p["id"] for p in admin.projects()] == ["p1", "p2"]
    assert own.request_history[0].qs == {} and every.request_history[0].qs == {}


def test_quotas_are_inventoried_per_project(admin: OpenStackConnector, http: requests_mock.Mocker) -> None:
    http.get(KEYSTONE_PROJECTS, json={"projects": [{"id": "p1"}, {"id": "p2"}]})
    for pid in ("p1", "p2"):
        http.get(f"{NOVA}/os-quota-sets/{pid}", json={"quota_set": {"id": pid, "instances": 10}})
        http.get(f"{CINDER}/os-quota-sets/{pid}", json={"quota_set": {"id": pid, "volumes": 5}})
        http.get(f"{NEUTRON}/quotas/{pid}", json={"quota": {"network": 3}})

    pages = list(admin.iter_pages("quotas"))

    assert pages == [[
        {"project_id": pid, "compute": {"id": pid, "instances": 10}, "block-storage": {"id": pid, "volumes": 5},
         "network": {"network": 3}} for pid in ("p1", "p2")
    ]]
