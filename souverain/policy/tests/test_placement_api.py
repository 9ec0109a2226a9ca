"""Placement through the API on the example estate, and operators' policies (compile, test, activate)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ON = "2026-11-25"


@pytest.fixture
def api(example_estate, api_as):
    return api_as("operator-admin")


def place(client, workload, on=ON, status=200):
    response = client.post("/api/placement/", {"workload": workload, "on": on}, format="json")
    assert response.status_code == status, response.content
    return response.json()


def reasons(result, region):
    entry = next(d for d in result["denied"] if d["region"] == region)
    return entry["reasons"]


@pytest.mark.django_db
def test_diffusion_restreinte_goes_only_to_the_sovereign_national_cloud(api):
    # No tenant named (what-if): the workload says who it is for; "cloud au centre" binds a State administration.
    result = place(api, {"data_classes": ["diffusion_restreinte"], "tenant_category": "state_administration"})
    assert [a["region"] for a in result["allowed"]] == ["sovereign/fr-paris-1"]
    assert set(result["allowed"][0]) == {"region", "cloud", "score", "warnings", "capacity"}
    assert result["allowed"][0]["capacity"]["status"] == "unknown"  # never measured: no claim either way
    international = reasons(result, "international/eu-west-1")
    rules = {r["rule"] for r in international}
    assert "secnumcloud.vendor_access" in rules
    assert "extraterritorial.compelled_exposure" in rules
    vendor = next(r for r in international if r["rule"] == "secnumcloud.vendor_access")
    assert "Longhua" in vendor["message"] and vendor["source"].startswith("SecNumCloud")
    exposure = [r for r in international if r["rule"] == "extraterritorial.compelled_exposure"]
    assert any("National Intelligence Law" in r["message"] for r in exposure)
    for entry in result["denied"]:
        for reason in entry["reasons"]:
            assert set(reason) == {"rule", "message", "message_fr", "facts", "source", "source_fr", "binds",
                                   "binds_fr"}


@pytest.mark.django_db
def test_health_data_is_denied_where_the_hds_certificate_expired_the_day_before(api):
    day_of_expiry = place(api, {"data_classes": ["health"]}, on="2026-05-15")
    day_after = place(api, {"data_classes": ["health"]}, on="2026-05-16")
    region = "international/eu-west-1"
    before = {r["rule"] for r in reasons(day_of_expiry, region)} if any(
        d["region"] == region for d in day_of_expiry["denied"]) else set()
    assert "hds.certificate" not in before
    expired = next(r for r in reasons(day_after, region) if r["rule"] == "hds.certificate")
    assert "2026-05-15" in json.dumps(expired)


@pytest.mark.django_db
def test_public_data_may_go_almost_anywhere_and_is_ranked_by_preference(api):
    result = place(api, {"data_classes": ["public"], "preferences": {"regions": ["nimbus/eu-paris-1"]}})
    assert result["allowed"][0]["region"] == "nimbus/eu-paris-1"
    assert len(result["allowed"]) >= 5


@pytest.mark.django_db
def test_invalid_workload_is_a_located_400(api):
    response = api.post("/api/placement/", {"workload": {"data_classes": ["secret-sauce"]}}, format="json")
    assert response.status_code == 400
    assert "data_classes.0" in json.dumps(response.json())


@pytest.mark.django_db
def test_tenant_users_place_for_their_own_tenant_only(example_estate, api_as, tenants):
    member = api_as("tenant-member")
    assert member.post("/api/placement/", {"workload": {"tenant": "other-corp"}}, format="json").status_code == 403
    # The home tenant's default class (diffusion_restreinte) applies even when the request names none.
    result = place(member, {"data_classes": ["public"]})
    assert result["workload"]["tenant"] == "ministere"
    assert [a["region"] for a in result["allowed"]] == ["sovereign/fr-paris-1"]


GOOD_POLICY = """package souverain.custom.no_singapore

import rego.v1

deny contains d if {
\tsome loc in input.region.data_locations
\tloc.country == "SG"
\td := {"rule": "custom.no_singapore", "message": sprintf("%s stores data in Singapore", [input.region.id]),
\t\t"facts": {"datacenter": loc.datacenter}, "source": "Operator policy 7"}
}
"""

GOOD_TESTS = """package souverain.custom.no_singapore_test

import rego.v1

import data.souverain.custom.no_singapore

test_singapore_denied if {
\tr := {"id": "x/y", "data_locations": [{"country": "SG", "datacenter": "d"}]}
\tcount(no_singapore.deny) == 1 with input.region as r
}
"""


@pytest.mark.django_db
def test_operator_policy_is_compiled_tested_activated_and_applied(api):
    public = {"data_classes": ["public"]}
    assert "international/ap-southeast-1" in [a["region"] for a in place(api, public)["allowed"]]
    response = api.post("/api/policies/upload/", {"name": "no_singapore", "source": GOOD_POLICY,
                                                 "tests": GOOD_TESTS}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "active"
    assert response.json()["tests"]["passed"]
    result = place(api, public)
    assert "international/ap-southeast-1" not in [a["region"] for a in result["allowed"]]
    assert reasons(result, "international/ap-southeast-1")[0]["rule"] == "custom.no_singapore"
    activations = api.get("/api/policies/no_singapore/activations/").json()
    assert activations[0]["activated_by"] == "operator-admin" and "+package souverain.custom" in activations[0]["diff"]


@pytest.mark.django_db
def test_broken_or_failing_policy_is_refused_and_the_active_version_keeps_working(api):
    assert api.post("/api/policies/upload/", {"name": "no_singapore", "source": GOOD_POLICY, "tests": GOOD_TESTS},
                    format="json").status_code == 201
    broken = GOOD_POLICY.replace('loc.country == "SG"', 'loc.country == = "SG"')
    response = api.post("/api/policies/upload/", {"name": "no_singapore", "source": broken,
                                                 "tests": GOOD_TESTS}, format="json")
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["module"] == "custom/no_singapore.rego"
    assert error["line"] == 7 and error["column"] is not None
    failing = GOOD_TESTS.replace("count(no_singapore.deny) == 1", "count(no_singapore.deny) == 2")
    response = api.post("/api/policies/upload/", {"name": "no_singapore", "source": GOOD_POLICY, "tests": failing},
                        format="json")
    assert response.status_code == 422
    assert response.json()["tests"]["failed"][0]["name"].endswith("test_singapore_denied")
    versions = api.get("/api/policies/no_singapore/versions/").json()
    assert [v["status"] for v in versions] == ["rejected", "rejected", "active"]
    result = place(api, {"data_classes": ["public"]})
    assert reasons(result, "international/ap-southeast-1")[0]["rule"] == "custom.no_singapore"


@pytest.mark.django_db
def test_only_operator_admins_upload_policies(example_estate, api_as):
    for username in ("operator-ops", "auditor", "tenant-admin", "tenant-member"):
        payload = {"name": "x", "source": GOOD_POLICY, "tests": GOOD_TESTS}
        response = api_as(username).post("/api/policies/upload/", payload, format="json")
        assert response.status_code == 403, username


def test_place_offline_against_an_estate_file(tmp_path):
    workload = tmp_path / "w.yaml"
    workload.write_text("data_classes: [diffusion_restreinte]\ntenant_category: state_administration\n")
    completed = subprocess.run(
        [sys.executable, "-m", "souverain.cli.main", "place", "--estate", str(ROOT / "examples/estate/souverain.yaml"),
         "--workload", str(workload), "--on", ON, "--format", "json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert [a["region"] for a in result["allowed"]] == ["sovereign/fr-paris-1"]
    assert {d["region"] for d in result["denied"]} >= {"international/eu-west-1", "nimbus/eu-paris-1"}
