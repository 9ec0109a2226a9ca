"""JSON fields sent as form text: "null" must be a 400 naming the field, never a NOT NULL 500 (schemathesis)."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["default_data_classes", "default_requirements", "safeguards"])
@pytest.mark.parametrize("encoding", ["multipart", "form"])
def test_a_null_json_field_in_a_form_body_is_refused_by_name(api_as, field, encoding):
    from souverain.tenancy.models import Tenant

    client = api_as("operator-admin")
    data = {"slug": "form-null", "name": "Form null", field: "null"}
    if encoding == "form":
        from urllib.parse import urlencode

        response = client.post("/api/tenants/", urlencode(data), content_type="application/x-www-form-urlencoded")
    else:
        response = client.post("/api/tenants/", data, format="multipart")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Tenant.objects.filter(slug="form-null").exists()
