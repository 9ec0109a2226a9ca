"""Fixtures of the portal's tests: a populated estate, inventory rows of two tenants, logged-in clients."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

# A fixed decision date, so certificate states (expired, expiring) do not move with the calendar.
ON = dt.date(2026, 11, 25)


@pytest.fixture
def estate(example_estate: Any, role_users: dict[str, Any], tenants: dict[str, Any]) -> dict[str, Any]:
    """The example estate, the role users, and 140 resources: home tenant, foreign tenant and unmapped."""
    from .factories import bulk_resources

    bulk_resources(140, tenants=[tenants["home"], tenants["foreign"], None])
    return tenants


@pytest.fixture
def evaluated(estate: dict[str, Any]) -> dict[str, Any]:
    """The estate after one compliance pass: the other tenant's data is health data, so both have violations."""
    from souverain.policy.compliance import evaluate

    estate["foreign"].default_data_classes = ["health", "personal"]
    estate["foreign"].save()
    evaluate(on=ON)
    return estate


@pytest.fixture
def login(client: Client, role_users: dict[str, Any]) -> Any:
    def as_user(username: str) -> Client:
        client.force_login(role_users[username])
        return client

    return as_user
