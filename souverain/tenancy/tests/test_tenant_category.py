"""The tenant's legal category: stored, defaulted to the least-bound category, exposed and validated by the API."""

from __future__ import annotations

import pytest

from souverain.tenancy import categories
from souverain.tenancy.models import Tenant, TenantCategory


@pytest.mark.django_db
def test_a_new_tenant_is_private_unless_told_otherwise():
    assert Tenant.objects.create(slug="acme", name="Acme").category == TenantCategory.PRIVATE


@pytest.mark.django_db
def test_operators_set_the_category_through_the_api(api_as):
    admin = api_as("operator-admin")
    created = admin.post("/api/tenants/", {"slug": "dinum", "name": "DINUM", "category": "state_administration"},
                         format="json")
    assert created.status_code == 201, created.content
    assert created.json()["category"] == "state_administration"
    assert Tenant.objects.get(slug="dinum").category == TenantCategory.STATE_ADMINISTRATION
    changed = admin.patch("/api/tenants/dinum/", {"category": "critical_operator"}, format="json")
    assert changed.status_code == 200 and changed.json()["category"] == "critical_operator"
    assert admin.get("/api/tenants/dinum/").json()["category"] == "critical_operator"


@pytest.mark.django_db
def test_an_unknown_category_is_refused_naming_the_field(api_as):
    response = api_as("operator-admin").post("/api/tenants/", {"slug": "x", "name": "X", "category": "ministry"},
                                             format="json")
    assert response.status_code == 400
    assert "category" in response.json()
    assert not Tenant.objects.filter(slug="x").exists()


def test_the_model_choices_are_the_plain_categories_the_policy_layer_reads():
    assert tuple(TenantCategory.values) == categories.TENANT_CATEGORIES
    assert categories.DEFAULT_TENANT_CATEGORY in categories.TENANT_CATEGORIES
