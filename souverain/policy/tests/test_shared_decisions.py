"""Decisions shared between processes (policy/shared.py) and the placement classes decided again ahead of users."""

from __future__ import annotations

import datetime as dt

import pytest

from souverain.policy import services
from souverain.policy.engine import Engine
from souverain.policy.models import PlacementClass, SharedDecision
from souverain.policy.shared import DatabaseDecisions, warm_placements

ON = dt.date(2026, 11, 25)
WORKLOAD = {"data_classes": ["health", "personal"], "tenant_category": "regulated_health"}


class CountingEngine(Engine):
    """An engine of its own (another process's, as far as caches go) that counts its Rego evaluations."""

    def __init__(self) -> None:
        super().__init__()
        self.evaluations = 0

    def decide(self, document):  # noqa: ANN001, ANN201
        self.evaluations += 1
        return super().decide(document)


@pytest.fixture
def engines(monkeypatch, example_estate, kb_loaded):
    """Two processes' engines; services.current_engine() answers the one the test makes current."""
    first, second = CountingEngine(), CountingEngine()
    current = {"engine": first}
    monkeypatch.setattr(services, "current_engine", lambda: current["engine"])
    yield first, second, current
    first.close()
    second.close()


@pytest.mark.django_db
def test_a_class_decided_by_one_process_costs_another_no_evaluation(engines):
    first, second, current = engines
    answer = services.place(WORKLOAD, ON, engine=first)
    regions = len(answer["allowed"]) + len(answer["denied"])
    assert first.evaluations == regions > 0
    assert SharedDecision.objects.filter(date=ON).count() == regions

    current["engine"] = second
    again = services.place(WORKLOAD, ON, engine=second)
    assert second.evaluations == 0
    assert again["allowed"] == answer["allowed"] and again["denied"] == answer["denied"]


@pytest.mark.django_db
def test_another_date_or_workload_is_not_answered_from_the_shared_store(engines):
    first, second, current = engines
    services.place(WORKLOAD, ON, engine=first)
    current["engine"] = second
    services.place(WORKLOAD, ON + dt.timedelta(days=1), engine=second)
    services.place({**WORKLOAD, "data_classes": ["personal"]}, ON, engine=second)
    assert second.evaluations > 0
    assert SharedDecision.objects.values("date").distinct().count() == 2


@pytest.mark.django_db
def test_the_compliance_pass_decides_recent_placement_classes_again_for_a_new_date(engines):
    first, second, current = engines
    services.place(WORKLOAD, ON, engine=first)
    assert PlacementClass.objects.count() == 1
    tomorrow = ON + dt.timedelta(days=1)

    current["engine"] = second
    assert warm_placements(tomorrow) == 1
    warmed = second.evaluations
    assert warmed > 0
    # Yesterday's shared decisions are gone; a third process placing tomorrow evaluates nothing.
    assert not SharedDecision.objects.filter(date__lt=tomorrow).exists()
    third = CountingEngine()
    try:
        current["engine"] = third
        services.place(WORKLOAD, tomorrow, engine=third)
        assert third.evaluations == 0
    finally:
        third.close()


@pytest.mark.django_db
def test_the_compliance_pass_shares_its_own_decisions_of_the_day(engines):
    from souverain.policy.shared import share_decided

    first, second, current = engines
    context = services.current_context(ON)
    from souverain.policy import placement

    # What a compliance pass leaves in its process's cache: one decision per (class workload, region).
    placement.decide_all(WORKLOAD, context.cases[:3], context, ON, first)
    placement.decide_all(WORKLOAD, context.cases[:1], context, ON + dt.timedelta(days=1), first)
    assert not SharedDecision.objects.exists()
    assert share_decided(ON) == 3  # today's only
    assert SharedDecision.objects.filter(date=ON).count() == 3 and SharedDecision.objects.count() == 3
    assert share_decided(ON) == 3 and SharedDecision.objects.count() == 3  # written once

    current["engine"] = second
    placement.decide_all(WORKLOAD, context.cases[:3], context, ON, second, DatabaseDecisions())
    assert second.evaluations == 0
