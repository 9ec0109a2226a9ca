"""Fixtures shared by every Django test: one user per role, a home tenant and a foreign tenant, API clients."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Fast password hashing for the whole suite (settings.py: SOUVERAIN_TEST_PASSWORD_HASHER): here, and in the
    processes tests start (workers, servers, CLIs), which inherit the variable. ``role_users`` alone makes six
    users for most tests: with PBKDF2 that was seconds a test."""
    os.environ["SOUVERAIN_TEST_PASSWORD_HASHER"] = "md5"
    from django.conf import settings

    if settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE"):
        from django.conf.global_settings import PASSWORD_HASHERS as default_hashers
        from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *default_hashers]
        get_hashers.cache_clear()
        get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def tenants(db):
    from souverain.tenancy.models import Tenant

    home = Tenant.objects.create(slug="ministere", name="Ministère", category="state_administration",
                                 default_data_classes=["diffusion_restreinte"])
    foreign = Tenant.objects.create(slug="other-corp", name="Other Corp")
    return {"home": home, "foreign": foreign}


@pytest.fixture
def role_users(db, tenants):
    """username → user, for every role; tenant roles belong to the home tenant, plus a foreign tenant admin."""
    from django.contrib.auth import get_user_model

    from souverain.core.roles import Role
    from souverain.tenancy.models import Membership

    user_model = get_user_model()
    users = {}
    for role, tenant in (
        (Role.OPERATOR_ADMIN, None),
        (Role.OPERATOR_OPS, None),
        (Role.AUDITOR, None),
        (Role.TENANT_ADMIN, tenants["home"]),
        (Role.TENANT_MEMBER, tenants["home"]),
    ):
        user = user_model.objects.create_user(username=str(role), password="pw-" + str(role))
        Membership.objects.create(user=user, role=role, tenant=tenant)
        users[str(role)] = user
    foreign = user_model.objects.create_user(username="foreign-admin", password="pw-foreign")
    Membership.objects.create(user=foreign, role=Role.TENANT_ADMIN, tenant=tenants["foreign"])
    users["foreign-admin"] = foreign
    return users


@pytest.fixture
def api_as(role_users):
    from rest_framework.test import APIClient

    def make(username: str | None) -> APIClient:
        client = APIClient()
        if username is not None:
            client.force_authenticate(role_users[username])
        return client

    return make


@pytest.fixture
def kb_loaded(db):
    from souverain.sovereignty.services import load_knowledge_base

    load_knowledge_base("")


@pytest.fixture
def example_estate(kb_loaded):
    """The example estate, with the example tenants its private clouds are dedicated to (and only those: the
    ``tenants`` fixture makes the others its own way)."""
    from pathlib import Path

    import yaml

    from souverain.estate.services import apply_file
    from souverain.tenancy.models import Tenant

    examples = Path(__file__).parent / "examples"
    estate_file = examples / "estate" / "souverain.yaml"
    dedicated = {slug for cloud in yaml.safe_load(estate_file.read_text(encoding="utf-8"))["clouds"]
                 for slug in cloud.get("dedicated_to") or []}
    for entry in yaml.safe_load((examples / "tenants.yaml").read_text(encoding="utf-8"))["tenants"]:
        if entry["slug"] in dedicated:
            fields = {key: value for key, value in entry.items() if key != "slug"}
            Tenant.objects.update_or_create(slug=entry["slug"], defaults=fields)
    apply_file(estate_file)


#: Fixtures through which a test reaches the database (pytest-django's, and ours built on them).
_DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences",
                      "django_db_serialized_rollback"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """SOUVERAIN_DATABASE_TESTS_ONLY=1 (the PostgreSQL pass of ``make test``): keep only the tests that reach the
    database. The others (pure rules, Rego, parsers, the layering) already ran in the SQLite pass and do not
    depend on the database engine; running them twice cost CI minutes for nothing."""
    import os

    if os.environ.get("SOUVERAIN_DATABASE_TESTS_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses_database = item.get_closest_marker("django_db") is not None or \
            bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))
        (keep if uses_database else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
