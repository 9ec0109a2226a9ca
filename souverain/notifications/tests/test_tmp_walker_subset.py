import pytest

from souverain.core.tests import test_route_permissions as walker
from souverain.core.tests.test_route_permissions import world  # noqa: F401


@pytest.mark.django_db
def test_subset(world, client, role_users, monkeypatch):  # noqa: F811
    routes = [r for r in walker.all_routes() if "notifications" in r[0]]
    print("ROUTES", [r[0] for r in routes])
    monkeypatch.setattr(walker, "all_routes", lambda: routes)
    monkeypatch.setattr(walker, "FOREIGN_MARKERS", ["foreign-vm", "Other Corp"])
    try:
        walker.test_every_route_enforces_roles_and_tenant_isolation(world, client, role_users)
    except AssertionError as exc:
        print("ASSERT", str(exc)[:5000])
        raise
