"""The portal's what-if page: a form over a region's profile, the before/after answer with a map on each side."""

from __future__ import annotations

import pytest
from django.test import Client

from souverain.estate.models import Region

from .test_whatif import ON, SEED, resource

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_seed_question_from_the_form_in_english_and_french(example_estate, tenants, role_users):
    resource("sovereign/fr-paris-1", tenants["home"], name="ministry-vm")
    resource("sovereign/fr-paris-1", tenants["foreign"], tags=["souverain:classes=health"], name="foreign-vm")
    region = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")
    client = client_for(role_users["operator-ops"])
    form = client.get(f"/whatif/?region={region.pk}")
    assert form.status_code == 200 and f'value="{region.pk}" selected' in form.content.decode()
    params = {"run": "1", "region": region.pk, "like": "international", "vendor_access": "remote_support",
              "on": ON.isoformat()}
    page = client.get("/whatif/", params).content.decode()
    assert 'id="map-before"' in page and 'id="map-after"' in page
    assert "National Intelligence Law of the PRC" in page and "ministry-vm" in page and "foreign-vm" in page
    assert "secnumcloud.vendor_access" in page
    french = client.get("/whatif/", params, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Loi sur le renseignement national de la RPC" in french and "Avant" in french and "Après" in french


def test_a_tenant_sees_its_own_resources_only_and_bad_patches_are_explained(example_estate, tenants, role_users):
    resource("sovereign/fr-paris-1", tenants["home"], name="ministry-vm")
    resource("sovereign/fr-paris-1", tenants["foreign"], tags=["souverain:classes=health"], name="foreign-vm")
    region = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")
    client = client_for(role_users["tenant-member"])
    page = client.get("/whatif/", {"run": "1", "region": region.pk, "patch": SEED.read_text(encoding="utf-8"),
                                   "on": ON.isoformat()}).content.decode()
    assert "ministry-vm" in page and "foreign-vm" not in page and "lyon-campus" not in page
    bad = client.get("/whatif/", {"run": "1", "region": region.pk,
                                  "patch": "version: 1\nchanges:\n  - stack: {cloud: nowhere, like: international}\n"})
    assert "changes[0].stack.cloud: unknown cloud" in bad.content.decode()
    empty = client.get("/whatif/", {"run": "1", "region": region.pk}).content.decode()
    assert "Change at least one field" in empty


def test_the_placement_simulator_saves_a_workload_that_the_whatif_then_places(example_estate, tenants, role_users):
    from souverain.mobility.models import SavedWorkload

    query = "/placement/?run=1&data_classes=diffusion_restreinte&on=" + ON.isoformat()
    member = client_for(role_users["tenant-member"])
    page = member.get(query).content.decode()
    assert 'id="save-workload"' in page and "No saved workload yet" in page
    response = member.post(query, {"name": "dr-app"})
    assert response.status_code == 302 and response["Location"] == query
    saved = SavedWorkload.objects.get(name="dr-app")
    assert saved.tenant == tenants["home"]  # a tenant user's workload is their tenant's, whatever they send
    assert saved.descriptor["data_classes"] == ["diffusion_restreinte"] and "tenant" not in saved.descriptor
    page = member.get(query).content.decode()
    assert "Workload “dr-app” saved" in page and 'data-saved="dr-app"' in page
    # The same name again is refused, in the user's language.
    member.post(query, {"name": "dr-app"})
    assert SavedWorkload.objects.filter(name="dr-app").count() == 1
    member.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    member.post(query, {"name": "dr-app"})
    page = member.get(query).content.decode()
    assert "La charge de travail n’a pas été enregistrée" in page and "Enregistrer cette charge de travail" in page

    # The what-if page says the saved workload loses the sovereign region.
    region = Region.objects.get(cloud__slug="sovereign", slug="fr-paris-1")
    answer = member.get("/whatif/", {"run": "1", "region": region.pk, "like": "international",
                                     "vendor_access": "remote_support", "on": ON.isoformat()}).content.decode()
    assert "dr-app" in answer and "sovereign/fr-paris-1" in answer.split("dr-app", 1)[1]

    # Another tenant neither sees nor deletes it; an auditor may not save; its tenant's user deletes it.
    foreign = client_for(role_users["foreign-admin"])
    assert "dr-app" not in foreign.get(query).content.decode()
    assert foreign.post(f"/placement/saved/{saved.pk}/delete/").status_code == 404
    auditor = client_for(role_users["auditor"])
    assert auditor.post(query, {"name": "audit"}).status_code == 403
    assert 'id="save-workload"' not in auditor.get(query).content.decode()
    assert member.get(f"/placement/saved/{saved.pk}/delete/").status_code == 405
    response = member.post(f"/placement/saved/{saved.pk}/delete/", {"next": query})
    assert response.status_code == 302 and response["Location"] == query
    assert not SavedWorkload.objects.filter(pk=saved.pk).exists()


def test_an_unsimulated_or_invalid_save_is_refused_with_a_message(example_estate, role_users):
    from souverain.mobility.models import SavedWorkload

    operator = client_for(role_users["operator-ops"])
    operator.post("/placement/", {"name": "x"})
    assert "Simulate the workload first" in operator.get("/placement/").content.decode()
    query = "/placement/?run=1&data_classes=personal&tenant=no-such-tenant"
    operator.post(query, {"name": ""})
    assert not SavedWorkload.objects.exists()
