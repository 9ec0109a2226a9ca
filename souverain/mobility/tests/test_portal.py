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
