"""Cloud credentials: encrypted at rest, never returned by the API, never logged, never in the change log."""

from __future__ import annotations

import logging

import pytest

from souverain.core.logging import redact

SECRET = "S3cr3t-Pr1sm-Passw0rd"


@pytest.mark.django_db
def test_credentials_are_encrypted_never_returned_nor_logged(api_as, kb_loaded, caplog, monkeypatch, tmp_path):
    from django.db import connection

    from souverain.core.models import ObjectChange
    from souverain.estate.models import Cloud, LegalEntity

    caplog.set_level(logging.DEBUG)
    LegalEntity.objects.create(slug="op", name="Op", country="FR")
    admin = api_as("operator-admin")
    created = admin.post("/api/clouds/", {
        "slug": "prism", "name": "Prism", "kind": "nutanix", "endpoint": "https://prism.example:9440",
        "operator": "op", "credentials": {"username": "admin", "password": SECRET},
    }, format="json")
    assert created.status_code == 201, created.content
    assert SECRET not in created.content.decode()
    assert created.json()["has_credentials"] is True
    assert "credentials" not in created.json()

    fetched = admin.get("/api/clouds/prism/")
    assert SECRET not in fetched.content.decode()
    cloud = Cloud.objects.get(slug="prism")
    assert SECRET not in cloud.credentials_encrypted
    assert cloud.get_credentials()["password"] == SECRET
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM estate_cloud")
        assert all(SECRET not in (row[0] or "") for row in cursor.fetchall())

    # The estate file names an environment variable, never the secret itself.
    monkeypatch.setenv("PRISM_PASSWORD", SECRET + "-2")
    from souverain.estate.services import apply_document

    apply_document({"entities": [{"id": "op", "name": "Op", "country": "FR"}], "clouds": [{
        "id": "prism", "name": "Prism", "kind": "nutanix", "operator": "op",
        "credentials": {"username": "admin", "password_env": "PRISM_PASSWORD"}, "regions": [],
    }]})
    assert Cloud.objects.get(slug="prism").get_credentials()["password"] == SECRET + "-2"

    for change in ObjectChange.objects.all():
        assert SECRET not in str(change.before) and SECRET not in str(change.after)
    assert SECRET not in caplog.text


def test_log_filter_masks_secrets_that_slip_through():
    assert SECRET not in redact(f"auth: {{'username': 'u', 'password': '{SECRET}'}}")
    assert SECRET not in redact(f"password={SECRET} next")
    assert "username" in redact("username=admin password=x")
