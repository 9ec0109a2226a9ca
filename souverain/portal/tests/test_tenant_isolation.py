"""A tenant user never sees another tenant's resources on any portal page.

The route walker (core/tests/test_route_permissions.py) walks every route with markers of the foreign tenant; this
test reads the pages with a populated inventory: every portal URL, with every object it can show, as a user of
each tenant - as a page and as the HTMX partial of the same URL - and looks for anything of the other tenant
(its name, slug, resources' names and ids). A new portal route fails here until it is listed below.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from souverain.estate.models import Cloud, Region
from souverain.inventory.models import Resource
from souverain.tenancy.permissions import membership_of

from .conftest import ON

pytestmark = pytest.mark.django_db

# Query strings tried on every list-like page, some naming the other tenant on purpose.
VARIANTS = ["", "?tenant=other-corp", "?tenant=ministere", "?presence=all", "?q=res", "?sort=tenant",
            "?view=world", f"?on={ON.isoformat()}"]


def portal_routes() -> dict[str, Any]:
    resolver = get_resolver()
    namespace = resolver.namespace_dict["portal"][1]
    routes = {}
    for pattern in namespace.url_patterns:
        assert isinstance(pattern, URLPattern)
        routes[pattern.name] = pattern
    return routes


def urls_for(name: str, pattern: URLPattern, viewer: Any) -> list[tuple[str, int]]:
    """(url, expected status) for a portal route: the list pages with query strings naming either tenant, the
    detail pages with objects of both; any other route without parameters as is, answering as its view's
    ``Access`` says for the viewer's role (so a new page is read the day it appears)."""
    viewer_tenant = membership_of(viewer).tenant
    if name in {"overview", "inventory", "placement", "compliance"}:
        if name == "compliance":
            return [("/compliance/" + v, 200) for v in [*VARIANTS, "?severity=critical", "?rule=secnumcloud.",
                                                         "?cloud=nimbus&tenant=other-corp"]]
        base = {"overview": "/", "inventory": "/inventory/", "placement": "/placement/",
                "compliance": "/compliance/"}[name]
        urls = [(base + v, 200) for v in VARIANTS]
        if name == "placement":
            urls += [("/placement/?run=1&tenant=other-corp&data_classes=personal", 200),
                     ("/placement/?run=1&tenant=ministere&data_classes=health", 200)]
        return urls
    if name == "cloud":
        return [(f"/clouds/{cloud.slug}/", 200 if _visible(cloud, viewer_tenant) else 404)
                for cloud in Cloud.objects.all()]
    if name == "region":
        return [(f"/regions/{region.pk}/", 200 if _visible(region.cloud, viewer_tenant) else 404)
                for region in Region.objects.select_related("cloud")]
    if name == "capacity-region":
        return [(f"/capacity/regions/{region.pk}/", 200 if _visible(region.cloud, viewer_tenant) else 404)
                for region in Region.objects.select_related("cloud")]
    if name in {"resource", "resource-actions"}:
        path = "/inventory/{}/" + ("actions/" if name == "resource-actions" else "")
        access = pattern.callback.view_class.access
        allowed = 200 if membership_of(viewer).role in access.read else 403
        mine = Resource.objects.filter(tenant=viewer_tenant).values_list("pk", flat=True)[:15]
        others = Resource.objects.exclude(tenant=viewer_tenant).values_list("pk", flat=True)[:15]
        return [(path.format(pk), allowed) for pk in mine] + \
            [(path.format(pk), 404 if allowed == 200 else 403) for pk in others]
    if name == "request":  # provisioning requests: the viewer's tenant's only
        from souverain.provisioning.models import ServiceRequest

        return [(f"/requests/{r.pk}/", 200 if r.tenant_id == viewer_tenant.pk else 404)
                for r in ServiceRequest.objects.all()[:30]]
    if name == "saved-workload-delete":  # POST only (the delete's isolation: mobility's portal tests); GET: 405
        from souverain.mobility.models import SavedWorkload

        access = pattern.callback.view_class.access
        status = 405 if membership_of(viewer).role in access.read else 403
        return [(f"/placement/saved/{pk}/delete/", status)
                for pk in [*SavedWorkload.objects.values_list("pk", flat=True)[:10], 999999]]
    if name == "rule":
        return [(f"/compliance/rules/{pack}/", 200) for pack in ("secnumcloud", "hds", "requirements")]
    if name == "tenant":  # a node's page: the viewer's node and the nodes below it (organisation tree) only
        from souverain.tenancy.models import Tenant
        from souverain.tenancy.services import subtree_ids

        own = subtree_ids(viewer_tenant.pk)
        return [(f"/tenants/{t.slug}/", 200 if t.pk in own else 404) for t in Tenant.objects.all()]
    view = getattr(pattern.callback, "view_class", None)
    access = getattr(view, "access", None)
    if not pattern.pattern.converters and access is not None:
        if "get" not in view.http_method_names:  # a POST-only route (the header's "act as" switcher): 405
            return [("/" + str(pattern.pattern), 405 if membership_of(viewer).role in access.read else 403)]
        return [("/" + str(pattern.pattern), 200 if membership_of(viewer).role in access.read else 403)]
    raise AssertionError(f"portal route {name!r} is not covered by the tenant isolation test: add it")


def _visible(cloud: Cloud, tenant: Any) -> bool:
    """A public cloud is everyone's; a cloud dedicated to some tenants (where clouds have that) is theirs only."""
    dedicated = getattr(cloud, "dedicated_to", None)
    return dedicated is None or not dedicated.exists() or dedicated.filter(pk=tenant.pk).exists()


def secrets_of(tenant: Any) -> set[str]:
    """What must never appear in a page shown to another tenant's user."""
    own = Resource.objects.filter(tenant=tenant)
    return {tenant.name, f'"{tenant.slug}"', f">{tenant.slug}<", *own.values_list("name", flat=True),
            *own.values_list("external_id", flat=True)}


@pytest.mark.parametrize(("username", "mine", "theirs"), [
    ("tenant-member", "home", "foreign"), ("tenant-admin", "home", "foreign"), ("foreign-admin", "foreign", "home"),
])
def test_no_page_shows_another_tenants_resources(client: Client, evaluated: Any, role_users: Any, username: str,
                                                 mine: str, theirs: str) -> None:
    client.force_login(role_users[username])
    viewer, other = evaluated[mine], evaluated[theirs]
    forbidden = secrets_of(other)
    own_count = Resource.objects.filter(tenant=viewer, gone_at__isnull=True).count()
    assert forbidden and own_count
    checked = 0
    for name, pattern in portal_routes().items():
        for url, expected in urls_for(name, pattern, role_users[username]):
            response = client.get(url)
            assert response.status_code == expected, f"{username} GET {url} → {response.status_code}"
            if expected != 200:
                continue
            # The page, and the same URL as the HTMX partial its forms and polling ask for.
            partial = client.get(url, HTTP_HX_REQUEST="true")
            assert partial.status_code == expected, f"{username} GET {url} (htmx) → {partial.status_code}"
            for how, page in (("", response.content.decode()), (" (htmx)", partial.content.decode())):
                leaked = sorted(s for s in forbidden if s in page)
                assert not leaked, f"{username} sees {leaked[:5]} of {other.slug} at {url}{how}"
            checked += 1
    assert checked > 40
    # The counts are the viewer's own, too.
    assert f"<strong>{own_count}</strong></a> resources" in client.get("/").content.decode()


def test_the_csv_export_of_a_tenant_user_is_their_tenants_only(client: Client, estate: Any,
                                                             role_users: Any) -> None:
    client.force_login(role_users["tenant-member"])
    body = b"".join(client.get("/api/inventory/resources/?format=csv&presence=all").streaming_content).decode()
    foreign = set(Resource.objects.filter(tenant=estate["foreign"]).values_list("external_id", flat=True))
    rows = body.strip().splitlines()[1:]
    assert rows and not [row for row in rows if row.split(",")[6] in foreign]
