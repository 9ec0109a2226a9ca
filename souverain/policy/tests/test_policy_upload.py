"""Refused policy uploads write nothing; the compliance page survives every state of operators' policies."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from souverain.policy import services
from souverain.policy.models import OperatorPolicy, PolicyActivation, PolicyVersion

from .test_placement_api import GOOD_POLICY, GOOD_TESTS, place


def rows() -> tuple[int, int, int]:
    return OperatorPolicy.objects.count(), PolicyVersion.objects.count(), PolicyActivation.objects.count()


@pytest.fixture
def admin_client(client: Client, role_users: dict[str, Any]) -> Client:
    client.force_login(role_users["operator-admin"])
    return client


@pytest.mark.django_db
def test_an_invalid_name_is_a_400_that_writes_nothing(example_estate: Any, api_as: Any) -> None:
    api = api_as("operator-admin")
    for name in ["Bad Name", "a/b", "0starts_with_digit", "with-dash", "x" * 81, "", "dotted.name"]:
        response = api.post("/api/policies/upload/", {"name": name, "source": GOOD_POLICY, "tests": GOOD_TESTS},
                            format="json")
        assert response.status_code == 400, (name, response.content)
        assert "name" in response.json()
        assert rows() == (0, 0, 0), name


@pytest.mark.django_db
def test_a_module_over_a_limit_is_a_400_naming_module_line_and_limit_and_writes_nothing(
        example_estate: Any, api_as: Any) -> None:
    api = api_as("operator-admin")
    deep = GOOD_POLICY + "\nv := " + "[" * 10_000 + "1" + "]" * 10_000 + "\n"
    line = GOOD_POLICY.count("\n") + 2
    started = time.perf_counter()
    response = api.post("/api/policies/upload/", {"name": "no_singapore", "source": deep, "tests": GOOD_TESTS},
                        format="json")
    assert time.perf_counter() - started < 5
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error == {"field": "source", "module": "custom/no_singapore.rego", "line": line, "column": 38,
                     "message": "brackets nest more than 32 levels deep (SOUVERAIN_POLICY_MAX_DEPTH)"}
    assert response.json()["source"] == [f"custom/no_singapore.rego:{line}:38: {error['message']}"]
    huge_tests = GOOD_TESTS + "# " + "x" * 70_000 + "\n"
    response = api.post("/api/policies/upload/", {"name": "no_singapore", "source": GOOD_POLICY,
                                                 "tests": huge_tests}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["module"] == "custom/no_singapore_test.rego"
    assert "SOUVERAIN_POLICY_MAX_BYTES" in response.json()["errors"][0]["message"]
    assert rows() == (0, 0, 0)


LOOPING_POLICY = """package souverain.custom.slow

import rego.v1

deny contains "never" if {
\tsome i in numbers.range(1, 3000)
\tsome j in numbers.range(1, 3000)
\ti * j == -1
}
"""

LOOPING_TESTS = """package souverain.custom.slow_test

import rego.v1

import data.souverain.custom.slow

test_nothing_denied if count(slow.deny) == 0
"""


@pytest.mark.django_db
def test_a_module_whose_tests_loop_is_rejected_within_the_check_timeout(example_estate: Any, api_as: Any,
                                                                        settings: Any) -> None:
    settings.SOUVERAIN_POLICY_LIMITS = {"check_timeout": 3}
    started = time.perf_counter()
    response = api_as("operator-admin").post("/api/policies/upload/", {
        "name": "slow", "source": LOOPING_POLICY, "tests": LOOPING_TESTS}, format="json")
    assert time.perf_counter() - started < 15
    assert response.status_code == 422, response.content
    [error] = response.json()["errors"]
    assert error["module"] == "custom/slow.rego"
    assert "took longer than 3 s (SOUVERAIN_POLICY_CHECK_TIMEOUT)" in error["message"]
    assert OperatorPolicy.objects.get(name="slow").active_version is None


@pytest.mark.django_db
def test_a_looping_active_module_makes_placement_fail_closed_within_the_budget(example_estate: Any, api_as: Any,
                                                                              settings: Any) -> None:
    """A looping module active from before the limits existed (stored as is): placement answers in seconds."""
    settings.SOUVERAIN_POLICY_LIMITS = {"query_budget": 0.5}
    policy = OperatorPolicy.objects.create(name="slow")
    version = PolicyVersion.objects.create(policy=policy, number=1, source=LOOPING_POLICY,
                                           test_source=LOOPING_TESTS, sha256="-", status=PolicyVersion.Status.ACTIVE)
    policy.active_version = version
    policy.save()
    api = api_as("operator-admin")
    services.current_engine()  # compiling the built-in packs is not what this measures
    started = time.perf_counter()
    result = place(api, {"data_classes": ["public"]})
    # The budget once (then the module is quarantined) and a child process started twice: seconds (a few on a
    # quiet machine, more under load), not a minute per region as before the limits.
    assert time.perf_counter() - started < 30
    assert result["allowed"] == []
    for denied in result["denied"]:
        [failure] = [r for r in denied["reasons"] if r["rule"] == "custom.slow"]
        assert "custom/slow.rego could not be evaluated: the query took longer than 500 ms" in failure["message"]
    assert len(services.current_engine().cache) == 0  # decisions carrying an error are made again next time
    # The built-in packs still decide: a workload excluding the US CLOUD Act still gets their reasons.
    result = place(api, {"data_classes": ["public"], "requirements": {"no_exposure_to": ["us-cloud-act"]}})
    assert {r["rule"] for d in result["denied"] for r in d["reasons"]} - {"custom.slow"}


@pytest.mark.django_db
def test_the_compliance_page_survives_a_refused_upload(example_estate: Any, api_as: Any,
                                                       admin_client: Client) -> None:
    api_as("operator-admin").post("/api/policies/upload/", {"name": "a/b", "source": GOOD_POLICY,
                                                           "tests": GOOD_TESTS}, format="json")
    assert admin_client.get("/compliance/").status_code == 200


@pytest.mark.django_db
def test_the_portal_refuses_an_invalid_name_without_writing(example_estate: Any, admin_client: Client) -> None:
    before = rows()
    response = admin_client.post("/compliance/upload/", {"name": "Bad/Name", "source": GOOD_POLICY,
                                                          "tests": GOOD_TESTS})
    assert response.status_code == 200
    assert "lower case letters, digits and _" in response.content.decode()
    assert rows() == before
    assert admin_client.get("/compliance/").status_code == 200


@pytest.mark.django_db
def test_the_compliance_page_lists_a_policy_without_an_active_version(example_estate: Any, api_as: Any,
                                                                     admin_client: Client) -> None:
    broken = GOOD_POLICY.replace('loc.country == "SG"', 'loc.country == = "SG"')
    response = api_as("operator-admin").post("/api/policies/upload/", {"name": "no_singapore", "source": broken,
                                                                      "tests": GOOD_TESTS}, format="json")
    assert response.status_code == 422
    assert OperatorPolicy.objects.get(name="no_singapore").active_version is None
    page = admin_client.get("/compliance/")
    assert page.status_code == 200
    assert "no_singapore" in page.content.decode()
    assert admin_client.get("/compliance/rules/no_singapore/").status_code == 200
