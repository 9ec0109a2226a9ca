"""Issue 10 item 8: no write path accepts an ownership cycle, and a cycle already stored (a direct database edit,
an older version) makes the exposure, placement and overview pages say so, never answer 500."""

from __future__ import annotations

import pytest

from souverain.estate.models import LegalEntity, Region, Shareholding

ON = "2026-11-25"


@pytest.fixture
def admin(example_estate, api_as):
    return api_as("operator-admin")


@pytest.mark.django_db
def test_an_entity_cannot_be_its_own_parent(admin):
    response = admin.patch("/api/entities/hexagone-telecom/", {"parent": "hexagone-telecom"}, format="json")
    assert response.status_code == 400, response.content
    assert "hexagone-telecom → hexagone-telecom" in response.json()["parent"][0]
    assert LegalEntity.objects.get(slug="hexagone-telecom").parent is None


@pytest.mark.django_db
def test_a_parent_closing_a_cycle_through_shareholdings_is_refused_with_its_path(admin):
    # hexagone-cloud-souverain is 100 % held by hexagone-telecom: making it telecom's parent closes a loop.
    response = admin.patch("/api/entities/hexagone-telecom/", {"parent": "hexagone-cloud-souverain"}, format="json")
    assert response.status_code == 400, response.content
    message = response.json()["parent"][0]
    assert "ownership cycle" in message
    assert "hexagone-telecom → hexagone-cloud-souverain → hexagone-telecom" in message
    assert LegalEntity.objects.get(slug="hexagone-telecom").parent is None


@pytest.mark.django_db
def test_a_put_closing_a_cycle_is_refused_and_a_harmless_parent_accepted(admin):
    body = admin.get("/api/entities/harbour-bridge-gp/").json()
    body.pop("shareholders")
    body["parent"] = "harbour-bridge-fund"  # the fund's parent is the GP: a two-entity loop
    response = admin.put("/api/entities/harbour-bridge-gp/", body, format="json")
    assert response.status_code == 400, response.content
    assert "harbour-bridge-gp → harbour-bridge-fund → harbour-bridge-gp" in response.json()["parent"][0]
    body["parent"] = "etat-francais"
    assert admin.put("/api/entities/harbour-bridge-gp/", body, format="json").status_code == 200


# A stored cycle is reported from wherever the search met it first: either rotation names the same loop.
STORED_CYCLE = ("hexagone-telecom → hexagone-cloud-souverain → hexagone-telecom",
                "hexagone-cloud-souverain → hexagone-telecom → hexagone-cloud-souverain")


def _store_a_cycle_behind_the_apis_back() -> None:
    telecom = LegalEntity.objects.get(slug="hexagone-telecom")
    LegalEntity.objects.filter(pk=telecom.pk).update(parent=LegalEntity.objects.get(slug="hexagone-cloud-souverain"))
    assert Shareholding.objects.filter(owned__slug="hexagone-cloud-souverain", holder=telecom).exists()


@pytest.mark.django_db
def test_a_stored_cycle_makes_exposure_and_placement_answer_409_naming_the_cycle(admin, api_as):
    _store_a_cycle_behind_the_apis_back()
    region = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")
    for client in (admin, api_as("tenant-member")):
        response = client.get(f"/api/regions/{region.pk}/exposure/", {"on": ON})
        assert response.status_code == 409, response.content
        body = response.json()
        assert body["error"] == "OwnershipCycleError"
        assert any(path in body["detail"] for path in STORED_CYCLE)
        assert set(body["cycle"]) == {"hexagone-telecom", "hexagone-cloud-souverain"}
        response = client.post("/api/placement/", {"workload": {"data_classes": []}, "on": ON}, format="json")
        assert response.status_code == 409, response.content
        assert "ownership cycle" in response.json()["detail"]


@pytest.mark.django_db
def test_a_stored_cycle_shows_on_the_portal_pages_instead_of_a_500(example_estate, role_users, client):
    _store_a_cycle_behind_the_apis_back()
    client.force_login(role_users["tenant-member"])
    region = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")
    for url in ("/", f"/regions/{region.pk}/"):
        response = client.get(url)
        assert response.status_code == 409, (url, response.status_code)
        assert any(path in response.content.decode() for path in STORED_CYCLE)


def test_a_long_chain_is_checked_without_exhausting_the_stack():
    from souverain.estate.ownership import Holding, OwnershipGraph

    depth = 5000
    holdings = [Holding(f"e{i}", f"e{i + 1}", 100.0, 100.0) for i in range(depth)]
    graph = OwnershipGraph(countries={}, names={}, holdings=holdings)
    assert graph.find_cycle() is None
    assert graph.find_cycle_through("e0") is None
    graph = OwnershipGraph(countries={}, names={}, holdings=holdings, parents={f"e{depth}": "e0"})
    assert len(graph.find_cycle()) == depth + 2
    assert graph.find_cycle_through("e0")[:2] == ["e0", "e1"]
