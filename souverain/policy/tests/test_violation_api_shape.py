"""The violations API answers the same after violations moved their text to ``Denial`` (issue 11, item 4).

``data/violation_api_shape.json`` was recorded from the API before the change (violations then copied their
message and reasons); the same pass over the same resources must give the same rows, field for field, except
ids and times, which differ from run to run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.utils import timezone

from souverain.estate.models import Region
from souverain.inventory.models import Resource
from souverain.policy.compliance import evaluate

GOLDEN = Path(__file__).parent / "data" / "violation_api_shape.json"
ON = dt.date(2026, 11, 25)
VOLATILE = {"id", "resource", "first_seen", "last_seen", "resolved_at"}


def _resource(region_key: str, name: str, tenant=None, tags=None) -> Resource:
    cloud, slug = region_key.split("/")
    region = Region.objects.select_related("cloud").get(cloud__slug=cloud, slug=slug)
    now = timezone.now()
    return Resource.objects.create(kind="server", cloud=region.cloud, region=region, tenant=tenant,
                                   external_id=f"ext-{name}", name=name, status="active", attrs={},
                                   attrs_hash="x", tags=tags or [], first_seen=now, last_seen=now)


def _shape(value):
    """The JSON type of every field, recursively (what a client parses)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return type(value).__name__


def _answer(client) -> dict:
    page = client.get("/api/compliance/violations/", {"limit": 500, "ordering": "rule"}).json()
    rows = sorted(({k: v for k, v in row.items() if k not in VOLATILE} for row in page["results"]),
                  key=lambda r: (r["resource_name"], r["rule"]))
    detail = client.get(f"/api/compliance/violations/{page['results'][0]['id']}/").json()
    return {"page_keys": sorted(page), "row_keys": list(page["results"][0]), "detail_shape": _shape(detail),
            "rows": rows}


@pytest.mark.django_db
def test_the_violations_api_answers_as_before_the_denial_table(example_estate, tenants, api_as):
    _resource("international/eu-west-1", "ministry-app", tenant=tenants["home"])
    _resource("international/eu-west-1", "health-app", tenant=tenants["foreign"],
              tags=["souverain:classes=health"])
    _resource("sovereign/fr-paris-1", "well-placed", tenant=tenants["home"])
    evaluate(on=ON, trigger="manual")
    answer = _answer(api_as("operator-admin"))
    assert answer["rows"], "the pass found violations to compare"
    if os.environ.get("SOUVERAIN_RECORD_GOLDEN"):
        GOLDEN.write_text(json.dumps(answer, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert answer["page_keys"] == expected["page_keys"]
    assert answer["row_keys"] == expected["row_keys"]  # field order too
    assert answer["detail_shape"] == expected["detail_shape"]
    assert answer["rows"] == expected["rows"]
