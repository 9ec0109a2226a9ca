"""Walk every route of the URL conf with every role and a foreign tenant.

A route must either be in PUBLIC_ROUTES or declare an ``Access`` policy; then each role gets exactly what the
policy says, tenant-scoped users never see another tenant's objects, and anonymous users get nothing.
A new route that forgets its policy fails here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from souverain.tenancy.permissions import Access

PUBLIC_ROUTES = {
    "healthz", "api/auth/token/", "login/", "logout/", "i18n/setlang/",
}
SKIPPED_PREFIXES = ("admin/", "static/", "__debug__/")
ROLES = ["operator-admin", "operator-ops", "auditor", "tenant-admin", "tenant-member", "foreign-admin"]


def walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    routes = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            routes.extend(walk(entry.url_patterns, prefix + _clean(str(entry.pattern))))
        elif isinstance(entry, URLPattern):
            routes.append((prefix + _clean(str(entry.pattern)), entry.callback))
    return routes


def _clean(pattern: str) -> str:
    return pattern.removeprefix("^").removesuffix("$").replace("\\Z", "")


def view_class(callback: Any) -> type | None:
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def all_routes() -> list[tuple[str, Any]]:
    routes = []
    for route, callback in walk(get_resolver().url_patterns):
        route = route.lstrip("^").rstrip("$").replace("\\Z", "")
        if route.startswith(SKIPPED_PREFIXES) or "format" in route:
            continue
        routes.append((route, callback))
    return routes


def access_for(callback: Any, method: str) -> Access | None:
    cls = view_class(callback)
    if cls is None:
        return None
    actions = getattr(callback, "actions", None) or {}
    action = actions.get(method.lower())
    per_action = getattr(cls, "action_access", {}) or {}
    return per_action.get(action) or getattr(cls, "access", None)


def test_every_route_is_public_or_declares_an_access_policy():
    missing = []
    for route, callback in all_routes():
        if route in PUBLIC_ROUTES:
            continue
        if not isinstance(access_for(callback, "GET") or access_for(callback, "POST"), Access):
            missing.append(route)
    assert not missing, f"routes without an Access policy: {missing}"


def _has_lookup(model: type, lookup: str) -> bool:
    from django.core.exceptions import FieldError

    try:
        model.objects.filter(**{lookup: None}).query  # noqa: B018  (builds the query, raises on a bad path)
    except FieldError:
        return False
    return True


def _recreate(model: type) -> Any:
    """Some routes' objects may be consumed by earlier routes of the walk: make one again."""
    from souverain.policy.models import OperatorPolicy

    if model is OperatorPolicy:
        return OperatorPolicy.objects.get_or_create(name="walker")[0]
    return None


def _object_for(model: type, tenants: dict[str, Any], access: Access) -> Any:
    queryset = model.objects.all()
    if not queryset.exists():
        _recreate(model)
    if access.tenant_lookup and _has_lookup(model, access.tenant_lookup):
        foreign = queryset.filter(**{access.tenant_lookup: tenants["foreign"].pk}).first()
        if foreign is not None:
            return foreign
    return queryset.first()


def _fill(route: str, callback: Any, tenants: dict[str, Any], access: Access) -> tuple[str, Any] | None:
    cls = view_class(callback)
    names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", route)
    if not names:
        return re.sub(r"\(\?P<\w+>[^)]*\)", "", route), None
    queryset = getattr(cls, "queryset", None)
    if queryset is None:
        return None
    obj = _object_for(queryset.model, tenants, access)
    if obj is None:
        return None
    lookup_field = getattr(cls, "lookup_field", "pk")
    value = str(getattr(obj, lookup_field if lookup_field != "pk" else "pk"))
    url = re.sub(r"\(\?P<\w+>[^)]*\)", value, route)
    url = re.sub(r"<(?:\w+:)?\w+>", value, url)
    return url, obj


@pytest.fixture
def world(example_estate, role_users, tenants):
    """Objects of every kind, some owned by the foreign tenant."""
    from django.utils import timezone

    from souverain.inventory.models import Resource
    from souverain.inventory.tests.factories import inventory_world
    from souverain.policy.models import CompliancePass, OperatorPolicy, Violation

    inventory_world(tenants)
    now = timezone.now()
    resource = Resource.objects.filter(tenant=tenants["foreign"]).first()
    OperatorPolicy.objects.create(name="walker")
    Violation.objects.create(resource=resource, tenant=tenants["foreign"], region=resource.region, rule="walker.rule",
                             severity="high", message="walker", reason=[], first_seen=now, last_seen=now)
    CompliancePass.objects.create(started=now, finished=now, trigger="manual", scope="full", date=now.date(),
                                  policy_version="walker")
    return tenants


@pytest.mark.django_db
def test_every_route_enforces_roles_and_tenant_isolation(world, api_as, client, role_users):
    from rest_framework.test import APIClient

    checked = 0
    problems = []
    for route, callback in all_routes():
        if route in PUBLIC_ROUTES:
            continue
        access = access_for(callback, "GET")
        filled = _fill(route, callback, world, access) if access else None
        if filled is None:
            model = getattr(getattr(view_class(callback), "queryset", None), "model", None)
            problems.append(f"{route}: no object to test with ({model}: {model.objects.count() if model else '-'})")
            continue
        url, obj = filled
        url = "/" + url
        is_api = url.startswith("/api/")
        client.logout()
        anonymous = APIClient().get(url) if is_api else client.get(url)
        if is_api and anonymous.status_code not in (401, 403):
            problems.append(f"anonymous GET {url} → {anonymous.status_code}")
        if not is_api and anonymous.status_code != 302:
            problems.append(f"anonymous GET {url} → {anonymous.status_code} (expected a redirect to login)")
        for username in ROLES:
            user = role_users[username]
            role = user.membership.role
            if is_api:
                response = api_as(username).get(url)
            else:
                client.force_login(user)
                response = client.get(url)
            allowed = role in access.read
            foreign_object = (
                obj is not None and access.tenant_lookup is not None and _has_lookup(type(obj), access.tenant_lookup)
                and type(obj).objects.filter(pk=obj.pk).filter(**{access.tenant_lookup: world["foreign"].pk}).exists()
            )
            scoped = user.membership.tenant_id is not None
            if not allowed:
                expected = {403}
            elif foreign_object and scoped and username != "foreign-admin":
                expected = {404}
            else:
                expected = {200, 405}  # 405: a POST-only route, checked below
            if response.status_code not in expected:
                problems.append(f"{username} GET {url} → {response.status_code}, expected {expected}")
            elif allowed and response.status_code == 200 and scoped and access.tenant_lookup and is_api:
                body = response.json()
                rows = body.get("results", []) if isinstance(body, dict) else []
                model = type(obj) if obj is not None else None
                if model is not None:
                    ids = [r.get("id") for r in rows if isinstance(r, dict)]
                    visible_foreign = model.objects.filter(
                        pk__in=[i for i in ids if i is not None],
                    ).exclude(**{access.tenant_lookup: user.membership.tenant_id})
                    if visible_foreign.exists():
                        problems.append(f"{username} sees another tenant's rows at {url}")
            checked += 1
        write_access = access_for(callback, "POST") or access_for(callback, "DELETE")
        if is_api and write_access is not None:
            method = "post" if obj is None else "delete"
            for username in ROLES:
                role = role_users[username].membership.role
                if role in write_access.write:
                    continue
                response = getattr(api_as(username), method)(url, {}, format="json")
                if response.status_code not in (403, 404, 405):
                    problems.append(f"{username} {method.upper()} {url} → {response.status_code}, expected 403")
    assert checked > 50
    assert not problems, "\n".join(problems)
