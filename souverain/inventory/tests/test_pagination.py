"""The big lists' pagination: a total counted up to a cap, keyset pages that survive concurrent inserts, the
tenant scope under a cursor, ``limit``/``offset`` unchanged for existing clients."""

from __future__ import annotations

import pytest
from django.test import override_settings

from .factories import make_cloud, make_resource

URL = "/api/inventory/resources/"


@pytest.fixture
def many(tenants):
    """23 servers named vm-1 … vm-23 (natural order differs from the string order), alternately home/foreign."""
    cloud = make_cloud("alpha")
    return [make_resource(cloud, external_id=f"s{i}", name=f"vm-{i}",
                          tenant=tenants["home"] if i % 2 else tenants["foreign"]) for i in range(1, 24)]


def walk(api, params: dict) -> tuple[list[str], int]:
    """Every row of a cursor walk (following next_cursor), and the number of pages it took."""
    seen, pages, cursor = [], 0, ""
    while True:
        response = api.get(URL, {**params, "cursor": cursor})
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["name"] for row in body["results"]]
        pages += 1
        if body["next_cursor"] is None:
            assert body["next"] is None
            return seen, pages
        assert "cursor=" in body["next"] and "offset=" not in body["next"]
        cursor = body["next_cursor"]


@pytest.mark.django_db
def test_the_count_is_exact_below_the_cap_and_capped_above_it(api_as, many):
    api = api_as("operator-ops")
    with override_settings(SOUVERAIN_API_COUNT_CAP=30):
        body = api.get(URL, {"limit": 5}).json()
        assert (body["count"], body["count_capped"]) == (23, False)
        assert len(body["results"]) == 5 and "offset=5" in body["next"]
    with override_settings(SOUVERAIN_API_COUNT_CAP=10):
        body = api.get(URL, {"limit": 5}).json()
        assert (body["count"], body["count_capped"]) == (10, True)  # "more than 10"
        # next pages are there up to the last row, past the cap: the next link does not follow the count
        body = api.get(URL, {"limit": 5, "offset": 20}).json()
        assert [row["name"] for row in body["results"]] == ["vm-21", "vm-22", "vm-23"]
        assert body["next"] is None and (body["count"], body["count_capped"]) == (23, False)
        body = api.get(URL, {"limit": 5, "offset": 15}).json()
        assert body["next"] is not None and (body["count"], body["count_capped"]) == (10, True)
        # exactly the cap: exact, not capped
        body = api.get(URL, {"limit": 5, "q": "vm-1"}).json()  # vm-1, vm-10 … vm-19: 11 rows
        assert (body["count"], body["count_capped"]) == (10, True)
    with override_settings(SOUVERAIN_API_COUNT_CAP=11):
        body = api.get(URL, {"limit": 5, "q": "vm-1"}).json()
        assert (body["count"], body["count_capped"]) == (11, False)


@pytest.mark.django_db
def test_cursor_pages_walk_every_row_once_in_natural_order(api_as, many):
    api = api_as("operator-ops")
    seen, pages = walk(api, {"limit": 5})
    assert seen == [f"vm-{i}" for i in range(1, 24)] and pages == 5
    seen, _ = walk(api, {"limit": 4, "ordering": "-name"})
    assert seen == [f"vm-{i}" for i in range(23, 0, -1)]
    # an offset page hands out a cursor too: a client switches to keyset pages from there
    first = api.get(URL, {"limit": 5}).json()
    rest = api.get(URL, {"limit": 100, "cursor": first["next_cursor"]}).json()
    assert [row["name"] for row in rest["results"]] == [f"vm-{i}" for i in range(6, 24)]


@pytest.mark.django_db
def test_inserts_during_a_cursor_walk_cause_no_duplicate_nor_skip(api_as, many):
    api = api_as("operator-ops")
    cloud = many[0].cloud
    seen, cursor, added = [], "", 0
    while True:
        body = api.get(URL, {"limit": 4, "cursor": cursor}).json()
        seen += [row["name"] for row in body["results"]]
        # rows land both before the walk's position (vm-0-…: never shown, nothing shifts) and after it
        added += 1
        make_resource(cloud, external_id=f"before{added}", name=f"vm-0-{added}")
        make_resource(cloud, external_id=f"after{added}", name=f"vm-99-{added}")
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen))
    originals = [name for name in seen if not name.startswith(("vm-0-", "vm-99-"))]
    assert originals == [f"vm-{i}" for i in range(1, 24)]
    assert not any(name.startswith("vm-0-") for name in seen)
    assert any(name.startswith("vm-99-") for name in seen)  # rows added ahead of the walk are met once


@pytest.mark.django_db
def test_a_cursor_never_shows_another_tenants_rows(api_as, many):
    operator, member = api_as("operator-ops"), api_as("tenant-member")
    seen, _ = walk(member, {"limit": 3})
    assert seen == [f"vm-{i}" for i in range(1, 24, 2)]  # the home tenant's rows, odd numbers
    # a cursor taken from the operator's view (positioned on a foreign row) still walks the tenant's rows only
    operator_page = operator.get(URL, {"limit": 2}).json()  # vm-1 (home), vm-2 (foreign)
    body = member.get(URL, {"limit": 100, "cursor": operator_page["next_cursor"]}).json()
    assert [row["name"] for row in body["results"]] == [f"vm-{i}" for i in range(3, 24, 2)]
    assert (body["count"], body["count_capped"]) == (12, False)


@pytest.mark.django_db
def test_bad_cursors_are_refused_with_400(api_as, many):
    api = api_as("operator-ops")
    for cursor in ("abc", "eyJ0IjoxfQ:1:2", "\x00"):
        response = api.get(URL, {"cursor": cursor})
        assert response.status_code == 400 and "cursor" in response.json(), cursor
    token = api.get(URL, {"limit": 2}).json()["next_cursor"]
    assert api.get(URL, {"cursor": token, "offset": 4}).status_code == 400
    response = api.get(URL, {"cursor": token, "ordering": "-name"})
    assert response.status_code == 400 and "ordering" in response.json()["cursor"][0]
    # a nullable column has no keyset: offset pages still work, a cursor says which orderings can
    assert api.get(URL, {"ordering": "gone_at", "limit": 2}).json()["next_cursor"] is None
    response = api.get(URL, {"ordering": "gone_at", "cursor": ""})
    assert response.status_code == 400 and "name" in response.json()["cursor"][0]
    response = api.get(URL, {"cursor": "abc"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["cursor"] == ["Curseur invalide."]


@pytest.mark.django_db
def test_the_schema_documents_the_response_and_the_cursor(api_as):
    schema = api_as("operator-ops").get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][URL]["get"]
    assert "cursor" in [parameter["name"] for parameter in operation["parameters"]]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    properties = schema["components"]["schemas"][page]["properties"]
    assert {"count", "count_capped", "next_cursor", "next", "previous", "results"} <= set(properties)


@pytest.mark.django_db
def test_the_violations_list_pages_the_same_way(api_as, many):
    from datetime import timedelta

    from django.utils import timezone

    from souverain.policy.models import Violation

    now = timezone.now()
    # three violations share each last_seen: the id breaks the ties, so no page repeats nor skips one
    Violation.objects.bulk_create(
        Violation(resource=resource, tenant=resource.tenant, region=resource.region, rule="test.rule",
                  severity="high", message="m", first_seen=now, last_seen=now - timedelta(minutes=i // 3))
        for i, resource in enumerate(many))
    url = "/api/compliance/violations/"
    operator, member = api_as("operator-ops"), api_as("tenant-member")
    expected = list(Violation.objects.order_by("-last_seen", "id").values_list("id", flat=True))
    seen, cursor = [], ""
    while cursor is not None:
        body = operator.get(url, {"limit": 4, "cursor": cursor}).json()
        seen += [row["id"] for row in body["results"]]
        cursor = body["next_cursor"]
    assert seen == expected
    with override_settings(SOUVERAIN_API_COUNT_CAP=5):
        body = operator.get(url, {"limit": 2}).json()
        assert (body["count"], body["count_capped"]) == (5, True)
        body = member.get(url, {"limit": 100, "cursor": ""}).json()
        home = {resource.pk for resource in many if resource.tenant.slug == "ministere"}
        assert {row["resource"] for row in body["results"]} == home and body["next_cursor"] is None
