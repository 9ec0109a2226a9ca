"""The route walker's world (souverain/core/tests/test_route_permissions.py): a foreign tenant user's API token and
a history row of a foreign tenant's object, each carrying a foreign marker, so that a leak through the tokens or
the change-history routes (API and portal) shows."""

from __future__ import annotations

from typing import Any


def populate(tenants: dict[str, Any]) -> None:
    from django.contrib.contenttypes.models import ContentType

    from souverain.core import tokens
    from souverain.core.models import ObjectChange
    from souverain.tenancy.models import Membership, Tenant

    foreign_user = Membership.objects.filter(tenant=tenants["foreign"]).select_related("user").first().user
    tokens.issue(foreign_user, name="foreign-vm deploy token")
    ObjectChange.objects.create(
        username=foreign_user.get_username(), source="api", request_id="walker", action=ObjectChange.Action.UPDATE,
        content_type=ContentType.objects.get_for_model(Tenant), object_id=str(tenants["foreign"].pk),
        object_repr="foreign-vm", tenant_id=tenants["foreign"].pk,
        before={"name": "foreign-vm"}, after={"name": "foreign-vm renamed"})
