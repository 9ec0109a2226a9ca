"""Walk every route of the URL conf with every role and a foreign tenant.

A route must either be in PUBLIC_ROUTES or declare an ``Access`` policy; then each role gets exactly what the
policy says, tenant-scoped users never see another tenant's objects, and anonymous users get nothing.
A new route that forgets its policy fails here.

Everything is discovered from the URL conf and the views, never listed by hand, so that a new route, filter
or format is walked the day it appears:

- every route, including the ``.json``/``.csv``/``.api`` format suffixes (each view's renderers) and
  ``admin/`` (which must be off, or operator-admin only and showing no token);
- tenant-scoped users (a tenant member and an auditor bound to the home tenant) read every answer - JSON,
  CSV, HTML, paginated or not (history, versions, activations, summary) - and no marker of the foreign
  tenant's objects may appear in it (``FOREIGN_MARKERS``), nor a row of another tenant in any list;
- with every query parameter of the view's filterset (API) or of the page's own form (portal), given the
  foreign tenant's slug and its object's id: a filter must never widen a tenant user's view;
- portal pages again as HTMX partials (``HX-Request``), read the same way;
- writes: a role that may write gets 404 for PUT/PATCH/DELETE on another tenant's object, a role that may
  not gets 403 (or 404/405), and a POST naming another tenant in its body creates nothing for it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from souverain.tenancy.permissions import Access, membership_of

PUBLIC_ROUTES = {
    "healthz", "api/auth/token/", "login/", "logout/", "i18n/setlang/",
    "sso/login/", "sso/callback/",  # single sign-on: redirect to the provider, its answer
}
SKIPPED_PREFIXES = ("static/", "__debug__/")
ROLES = ["operator-admin", "operator-ops", "auditor", "tenant-admin", "tenant-member", "foreign-admin",
         "auditor-home"]
#: The home-tenant users whose every answer is read for the foreign tenant's markers.
READERS = ["tenant-member", "auditor-home"]
#: Strings that only the foreign tenant's objects carry (names, ids, project, messages): see the ``world``.
FOREIGN_MARKERS = ["foreign-vm", "p-foreign", "Other Corp", "walker-foreign-violation", "walker-foreign-job"]
FORMAT = re.compile(r"\\\.\(\?P<format>[^)]*\)/\??")


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


def all_routes(*, admin: bool = False) -> list[tuple[str, Any]]:
    """(route, view) of every route but the static files; ``admin/`` ones only with ``admin``."""
    routes = []
    for route, callback in walk(get_resolver().url_patterns):
        route = route.lstrip("^").rstrip("$").replace("\\Z", "")
        if route.startswith(SKIPPED_PREFIXES) or route.startswith("admin/") != admin:
            continue
        routes.append((route, callback))
    return routes


def formats_of(callback: Any) -> list[str]:
    """The format suffixes a route answers to: its view's renderers (json, api, csv...)."""
    cls = view_class(callback)
    renderers = getattr(cls, "renderer_classes", None) or []
    return sorted({r.format for r in renderers if getattr(r, "format", None)}) or ["json"]


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
    """The object to walk a detail route with: the foreign tenant's, or one of a cloud dedicated to other tenants
    than the home one, when there is one (the cases a leak would show in)."""
    queryset = model.objects.all()
    if not queryset.exists():
        _recreate(model)
    if access.tenant_lookup and _has_lookup(model, access.tenant_lookup):
        foreign = queryset.filter(**{access.tenant_lookup: tenants["foreign"].pk}).first()
        if foreign is not None:
            return foreign
    dedicated = getattr(access, "dedicated_lookup", None)
    if dedicated and _has_lookup(model, dedicated):
        private = queryset.exclude(**{f"{dedicated}__isnull": True}).exclude(**{dedicated: tenants["home"].pk}).first()
        if private is not None:
            return private
    return queryset.first()


def _hidden_from(user: Any, obj: Any, access: Access) -> bool:
    """Whether a tenant-scoped user must get 404 for this object: not their tenant's (``tenant_lookup``), or of a
    cloud dedicated to other tenants (``dedicated_lookup``, where the permission layer has it)."""
    from souverain.tenancy.services import subtree_ids

    tenant = membership_of(user).tenant_id
    if tenant is None or obj is None:
        return False
    visible = subtree_ids(tenant)  # their node and the nodes below it in the organisation tree
    model = type(obj)
    rows = model.objects.filter(pk=obj.pk)
    if access.tenant_lookup and _has_lookup(model, access.tenant_lookup) and \
            not rows.filter(**{f"{access.tenant_lookup}__in": visible}).exists():
        return True
    dedicated = getattr(access, "dedicated_lookup", None)
    if dedicated and _has_lookup(model, dedicated):
        owners = set(rows.values_list(dedicated, flat=True)) - {None}
        return bool(owners) and not owners & visible
    return False


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


def _populate_from_apps(tenants: dict[str, Any]) -> None:
    """Each app may add its own objects to the walk: ``souverain/<app>/tests/walker_world.py`` with
    ``populate(tenants)`` creating at least one object owned by the foreign tenant and carrying one of
    ``FOREIGN_MARKERS`` (e.g. its name contains "foreign-vm" or "Other Corp"), so that a leak shows."""
    import importlib

    from django.apps import apps

    for config in apps.get_app_configs():
        if not config.name.startswith("souverain."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.walker_world")
        except ModuleNotFoundError as error:
            if error.name in (f"{config.name}.tests", f"{config.name}.tests.walker_world"):
                continue
            raise
        module.populate(tenants)


@pytest.fixture
def world(example_estate, role_users, tenants):
    """Objects of every kind, some owned by the foreign tenant and carrying its markers; an auditor bound to the
    home tenant; a superuser (what ``souverain setup`` creates) for the admin."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from souverain.core.roles import Role
    from souverain.inventory.models import Resource
    from souverain.inventory.tests.factories import inventory_world
    from souverain.jobs.models import Job
    from souverain.policy.models import CompliancePass, OperatorPolicy, Violation
    from souverain.tenancy.models import Membership

    inventory_world(tenants)
    _populate_from_apps(tenants)
    now = timezone.now()
    resource = Resource.objects.filter(tenant=tenants["foreign"]).first()
    OperatorPolicy.objects.create(name="walker")
    Violation.objects.create(resource=resource, tenant=tenants["foreign"], region=resource.region, rule="walker.rule",
                             severity="high", message="walker-foreign-violation", reason=[], first_seen=now,
                             last_seen=now)
    CompliancePass.objects.create(started=now, finished=now, trigger="manual", scope="full", date=now.date(),
                                  policy_version="walker")
    # A running job about the foreign tenant's objects (a sync of a cloud dedicated to it), as the portal shows.
    Job.objects.create(kind="inventory.sync", params={"clouds": [], "full": True, "kinds": []}, status="running",
                       started=now, heartbeat=now, tenant=tenants["foreign"], message="walker-foreign-job")
    users = get_user_model().objects
    bound = users.create_user(username="auditor-home", password="pw-auditor-home")
    Membership.objects.create(user=bound, role=Role.AUDITOR, tenant=tenants["home"])
    role_users["auditor-home"] = bound
    root = users.create_superuser(username="root", password="pw-root", email="")
    Membership.objects.create(user=root, role=Role.OPERATOR_ADMIN)
    role_users["root"] = root
    return tenants


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _leaks(response: Any, query: str = "") -> list[str]:
    """The foreign tenant's markers in an answer (its slug too, unless the request itself named it)."""
    body = _body(response)
    found = [marker for marker in FOREIGN_MARKERS if marker in body]
    if '"other-corp"' in body and "other-corp" not in query:
        found.append('"other-corp"')
    return found


def _rows(body: Any) -> list[dict[str, Any]]:
    """The rows of a JSON answer, paginated or not."""
    if isinstance(body, dict):
        body = body.get("results", [])
    return [row for row in body if isinstance(row, dict)] if isinstance(body, list) else []


def _foreign_rows(response: Any, model: type, user: Any, lookup: str) -> bool:
    if "json" not in response.get("Content-Type", ""):
        return False
    from souverain.tenancy.services import subtree_ids

    ids = [row.get("id") for row in _rows(response.json()) if isinstance(row.get("id"), int)]
    return model.objects.filter(pk__in=ids).exclude(**{f"{lookup}__in": subtree_ids(membership_of(user).tenant_id)}
                                                    ).exists()


def _query_names(cls: Any, page: str) -> list[str]:
    """The query parameters a route takes: its filterset's filters (API), its page's form fields (portal)."""
    names = set(getattr(getattr(cls, "filterset_class", None), "base_filters", {}) or {})
    names.update(re.findall(r'<(?:input|select)[^>]*name="([\w-]+)"', page))
    names.discard("csrfmiddlewaretoken")
    return sorted(names | {"tenant"})


@pytest.mark.django_db
def test_every_route_enforces_roles_and_tenant_isolation(world, client, role_users):
    from django.test import Client
    from rest_framework.test import APIClient

    from souverain.tenancy.models import Tenant

    foreign_tenant = Tenant.objects.get(pk=world["foreign"].pk)
    api_clients, web_clients = {}, {}
    for username in ROLES:
        api_clients[username] = APIClient()
        api_clients[username].force_authenticate(role_users[username])
        web_clients[username] = Client()
        web_clients[username].force_login(role_users[username])
    for each in (*api_clients.values(), *web_clients.values()):
        each.raise_request_exception = False  # a 500 is one more problem to list, not the end of the walk

    checked = 0
    problems = []
    seen_by_operators: set[str] = set()  # the markers are really in the answers: the check below is not vacuous
    for route, callback in all_routes():
        if route in PUBLIC_ROUTES:
            continue
        access = access_for(callback, "GET")
        cls = view_class(callback)
        variants = [FORMAT.sub(f".{fmt}", route) for fmt in formats_of(callback)] if FORMAT.search(route) \
            else [route]
        for variant in variants:
            filled = _fill(variant, callback, world, access) if access else None
            if filled is None:
                model = getattr(getattr(cls, "queryset", None), "model", None)
                problems.append(f"{route}: no object to test with ({model}: "
                                f"{model.objects.count() if model else '-'})")
                break
            url, obj = filled
            url = "/" + url
            is_api = url.startswith("/api/")
            clients = api_clients if is_api else web_clients
            anonymous = APIClient().get(url) if is_api else Client().get(url)
            if is_api and anonymous.status_code not in (401, 403):
                problems.append(f"anonymous GET {url} → {anonymous.status_code}")
            if not is_api and anonymous.status_code != 302:
                problems.append(f"anonymous GET {url} → {anonymous.status_code} (expected a redirect to login)")
            model = type(obj) if obj is not None else getattr(getattr(cls, "queryset", None), "model", None)
            lookup = access.tenant_lookup if model is not None and access.tenant_lookup and \
                _has_lookup(model, access.tenant_lookup) else None
            for username in ROLES:
                user = role_users[username]
                role = membership_of(user).role
                response = clients[username].get(url)
                allowed = role in access.read
                if not allowed:
                    expected = {403}
                elif _hidden_from(user, obj, access):
                    expected = {404, 405}  # 405: a POST-only route answers GET so before looking the object up
                else:
                    expected = {200, 405}  # 405: a POST-only route, checked below
                if response.status_code not in expected:
                    problems.append(f"{username} GET {url} → {response.status_code}, expected {expected}")
                    continue
                checked += 1
                if username == "auditor" and response.status_code == 200:
                    seen_by_operators.update(_leaks(response))
                if username not in READERS or response.status_code != 200:
                    continue
                reads = [("", response)]
                if not is_api:  # the same page as an HTMX partial
                    reads.append(("(htmx)", clients[username].get(url, HTTP_HX_REQUEST="true")))
                if "<" not in route:  # a list or a page: every query parameter, naming the foreign tenant
                    for name in _query_names(cls, _body(response)):
                        for value in (foreign_tenant.slug, str(foreign_tenant.pk)):
                            query = f"?{name}={value}"
                            reads.append((query, clients[username].get(url + query)))
                for query, answer in reads:
                    if answer.status_code >= 500:
                        problems.append(f"{username} GET {url}{query} → {answer.status_code}")
                    leaked = _leaks(answer, query)
                    if leaked:
                        problems.append(f"{username} sees {leaked} of the foreign tenant at {url} {query}")
                    elif lookup and is_api and _foreign_rows(answer, model, user, lookup):
                        problems.append(f"{username} sees another tenant's rows at {url} {query}")
            problems.extend(_check_tree_relatives(variant, callback, access, clients, role_users, world))
            problems.extend(_check_foreign_tenant_header(url, cls, api_clients if is_api else None, world))
            problems.extend(_check_writes(url, obj, callback, api_clients if is_api else None, role_users, world))
    assert checked > 50
    unseen = set(FOREIGN_MARKERS) - seen_by_operators
    assert not unseen, f"markers that no route shows even to an auditor: {unseen}"
    assert not problems, "\n".join(problems)


#: In the organisation tree (tenancy/tests/walker_world.py): what the home tenant's users see of its relatives.
RELATIVES = {"child": {200, 405}, "sibling": {404, 405}, "parent": {404, 405}}


def _check_tree_relatives(route: str, callback: Any, access: Access, clients: dict[str, Any], role_users: Any,
                          world: Any) -> list[str]:
    """A detail route read by the home tenant's users with the object of the home tenant's child (seen), of its
    sibling and of its parent (never seen: 404), for every model that belongs to a tenant."""
    cls = view_class(callback)
    model = getattr(getattr(cls, "queryset", None), "model", None)
    if "<" not in route and "(?P" not in route or model is None or not access.tenant_lookup \
            or not _has_lookup(model, access.tenant_lookup) or "parent" not in world:
        return []
    problems = []
    lookup_field = getattr(cls, "lookup_field", "pk")
    for relative, expected in RELATIVES.items():
        obj = model.objects.filter(**{access.tenant_lookup: world[relative].pk}).first()
        if obj is None:
            continue
        value = str(getattr(obj, lookup_field if lookup_field != "pk" else "pk"))
        url = "/" + re.sub(r"<(?:\w+:)?\w+>", value, re.sub(r"\(\?P<\w+>[^)]*\)", value, route))
        for username in [*READERS, "tenant-admin"]:
            if membership_of(role_users[username]).role not in access.read:
                continue
            response = clients[username].get(url)
            if response.status_code not in expected:
                problems.append(f"{username} GET {url} (the home tenant's {relative}'s) → {response.status_code}, "
                                f"expected {expected}")
    return problems


def _check_foreign_tenant_header(url: str, cls: Any, clients: dict[str, Any] | None, world: Any) -> list[str]:
    """Every API route refuses (400) a request that chooses, with ``X-Souverain-Tenant``, a tenant where the user
    holds no membership (tenancy.permissions: one active membership per request, among the user's own)."""
    from souverain.tenancy.permissions import TENANT_HEADER, RolePermission

    if clients is None or RolePermission not in getattr(cls, "permission_classes", ()):
        return []
    header = "HTTP_" + TENANT_HEADER.upper().replace("-", "_")
    response = clients["tenant-member"].get(url, **{header: world["foreign"].slug})
    if response.status_code != 400:
        return [f"tenant-member GET {url} with {TENANT_HEADER}: {world['foreign'].slug} → "
                f"{response.status_code}, expected 400"]
    return []


def _check_writes(url: str, obj: Any, callback: Any, clients: dict[str, Any] | None, role_users: Any,
                  world: Any) -> list[str]:
    """Writes as every role: refused without the right, 404 on another tenant's object with it; a POST naming
    the foreign tenant in its body creates nothing of the foreign tenant."""
    if clients is None:
        return []
    write_access = access_for(callback, "POST") or access_for(callback, "DELETE")
    if write_access is None:
        return []
    problems = []
    for username in ROLES:
        user = role_users[username]
        scoped_home = membership_of(user).tenant_id == world["home"].pk
        may_write = membership_of(user).role in write_access.write
        if obj is None:
            if not may_write:
                response = clients[username].post(url, {}, format="json")
                if response.status_code not in (403, 404, 405):
                    problems.append(f"{username} POST {url} → {response.status_code}, expected 403")
            elif scoped_home:
                problems.extend(_post_naming_the_foreign_tenant(url, callback, clients[username], username, world))
            continue
        hidden = _hidden_from(user, obj, write_access)
        for method in ("put", "patch", "delete"):
            if may_write and not hidden:
                continue  # a legitimate write: not what this test is about (and it would consume the object)
            response = getattr(clients[username], method)(url, {}, format="json")
            expected = {404, 405} if may_write else {403, 404, 405}
            if response.status_code not in expected:
                problems.append(f"{username} {method.upper()} {url} → {response.status_code}, expected {expected}")
    return problems


def _post_naming_the_foreign_tenant(url: str, callback: Any, client: Any, username: str, world: Any) -> list[str]:
    model = getattr(getattr(view_class(callback), "queryset", None), "model", None)
    lookup = (access_for(callback, "POST") or Access()).tenant_lookup
    problems = []
    for value in (world["foreign"].slug, world["foreign"].pk):
        before = model.objects.filter(**{lookup: world["foreign"].pk}).count() if model and lookup else 0
        response = client.post(url, {"tenant": value, "workload": {"tenant": value}}, format="json")
        after = model.objects.filter(**{lookup: world["foreign"].pk}).count() if model and lookup else 0
        if response.status_code >= 500 or after != before or _leaks(response, str(value)):
            problems.append(f"{username} POST {url} naming the foreign tenant ({value!r}) → "
                            f"{response.status_code}, {after - before} object(s) created for it")
    return problems


@pytest.mark.django_db
def test_the_django_admin_is_off_or_operator_admin_only_and_shows_no_token(world, role_users):
    """Django's admin listed API tokens in clear (``authtoken``'s TokenProxy): it must not serve them to anyone."""
    from django.test import Client

    from souverain.core import tokens as api_tokens

    tokens = [api_tokens.issue(role_users[name])[1] for name in ("root", "tenant-member")]
    problems = []
    urls = {"/" + re.sub(r"<(?:\w+:)?\w+>|\(\?P<\w+>[^)]*\)", "1", route).replace(".*", "")
            for route, _view in all_routes(admin=True)}
    # Where the admin lists tokens, whether or not the URL conf still has an admin.
    urls |= {"/admin/", "/admin/authtoken/tokenproxy/", "/admin/authtoken/token/"}
    for url in sorted(urls):
        for username in [*ROLES, "root"]:
            client = Client()
            client.force_login(role_users[username])
            response = client.get(url, follow=True)
            body = _body(response)
            if any(token in body for token in tokens):
                problems.append(f"{username} sees an API token at {url}")
            operator_admin = membership_of(role_users[username]).role == "operator-admin"
            if response.status_code == 200 and not operator_admin and "id_password" not in body:
                problems.append(f"{username} GET {url} → 200 (the admin is for operator admins only)")
    assert not problems, "\n".join(problems)
