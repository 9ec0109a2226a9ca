"""The route walker's world (souverain/core/tests/test_route_permissions.py), in a tree: the home tenant gets a
parent, a sibling (the parent's other child) and a child of its own, each with a member and a resource.

A home-tenant user must see the child's objects and never the parent's or the sibling's: those carry the foreign
markers ("Other Corp" in their names, "foreign-vm" in their resources' and members' names), so a leak through any
route shows; the walker also reads each detail route with the child's, the sibling's and the parent's object
(``tenants["child"]``, ``["sibling"]``, ``["parent"]``)."""

from __future__ import annotations

from typing import Any


def populate(tenants: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model

    from souverain.core.roles import Role
    from souverain.estate.models import Cloud
    from souverain.inventory.tests.factories import make_resource
    from souverain.tenancy.models import Membership, Tenant

    home = tenants["home"]
    parent = Tenant.objects.create(slug="walker-holding", name="Other Corp holding")
    home.parent = parent
    home.save()
    sibling = Tenant.objects.create(slug="walker-sibling", name="Other Corp sibling", parent=parent)
    child = Tenant.objects.create(slug="walker-child", name="Ministère child", parent=home, category=home.category)
    tenants.update(parent=parent, sibling=sibling, child=child)
    users = get_user_model().objects
    cloud = Cloud.objects.filter(regions__isnull=False).first()
    for key, tenant, marker in (("parent", parent, "foreign-vm-parent"), ("sibling", sibling, "foreign-vm-sibling"),
                                ("child", child, "walker-child-vm")):
        user = users.create_user(username=f"{marker}-user", password=f"pw-{key}")
        Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=tenant)
        if cloud is not None:
            make_resource(cloud, external_id=marker, name=marker, tenant=tenant, project_id=f"p-{key}")
