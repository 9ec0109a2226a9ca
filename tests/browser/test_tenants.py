"""The organisation tree and delegated administration in a real browser, in English and French: a tenant admin of
level 2 sees its subtree (never its parent's other children), creates a child, adds a member and changes its role;
a refusal (a child too deep) is shown on the page, named."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from souverain.core.roles import Role
from souverain.tenancy.models import Membership, Tenant


@pytest.fixture
def org(db: None) -> dict[str, Any]:
    ministry = Tenant.objects.create(slug="ministry", name="Ministry", category="state_administration")
    directorate = Tenant.objects.create(slug="directorate", name="Directorate", parent=ministry,
                                        category="state_administration")
    project = Tenant.objects.create(slug="project", name="Project", parent=directorate,
                                    category="state_administration")
    sibling = Tenant.objects.create(slug="sibling", name="Sibling directorate", parent=ministry,
                                    category="state_administration")
    admin = get_user_model().objects.create_user(username="dir-admin", password="pw-dir-admin-42")
    Membership.objects.create(user=admin, role=Role.TENANT_ADMIN, tenant=directorate)
    return {"ministry": ministry, "directorate": directorate, "project": project, "sibling": sibling}


def test_delegated_administration_of_the_tree_in_english_and_french(org: dict[str, Any], watch: Any) -> None:
    ui = watch()
    page = ui.page
    ui.login("dir-admin", "pw-dir-admin-42")
    ui.go("/tenants/")
    tree = page.locator("ul.tenant-tree").first.inner_text()
    assert "Directorate" in tree and "Project" in tree
    assert "Sibling directorate" not in tree and "Ministry" not in tree
    assert "level 2" in tree
    ui.shot("tree")
    # Collapse and expand the directorate's branch.
    summary = page.locator("ul.tenant-tree details > summary").first
    summary.click()
    assert not page.locator("ul.tenant-tree details").first.evaluate("d => d.open")
    summary.click()
    assert page.locator("ul.tenant-tree details").first.evaluate("d => d.open")

    with page.expect_navigation():
        page.click("ul.tenant-tree a:text-is('Project')")
    assert page.locator("h1").inner_text() == "Project"
    # Create a child of the project (level 4).
    page.fill("form.create-child input[name=slug]", "team")
    page.fill("form.create-child input[name=name]", "Team")
    with page.expect_navigation():
        page.click("form.create-child button[type=submit]")
    assert "Tenant Team created." in page.inner_text("main")
    assert Tenant.objects.get(slug="team").parent == org["project"]
    ui.shot("child-created")
    # Add a member to the new team, then make them an admin.
    ui.go("/tenants/team/")
    page.fill("form.add-member input[name=username]", "alice")
    page.select_option("form.add-member select[name=role]", "tenant-member")
    page.fill("form.add-member input[name=password]", "a long pass phrase 42")
    with page.expect_navigation():
        page.click("form.add-member button[type=submit]")
    assert "alice added." in page.inner_text("main")
    page.select_option("table.tenant-members select[name=role]", "tenant-admin")
    with page.expect_navigation():
        page.click("table.tenant-members form:has(input[value=set-role]) button[type=submit]")
    assert Membership.objects.get(user__username="alice").role == Role.TENANT_ADMIN
    ui.shot("member-admin")
    # The sibling and the parent do not exist for this admin.
    ui.allowed.add("/tenants/sibling/")
    ui.allowed.add("/tenants/ministry/")
    assert ui.go("/tenants/sibling/").status == 404
    assert ui.go("/tenants/ministry/").status == 404

    # French: the same pages, a level 5 child (the last level), and a refusal in French.
    ui.go("/tenants/team/")
    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Valeurs par défaut en vigueur" in page.inner_text("main")
    assert "Ajouter un membre" in page.inner_text("main")
    page.fill("form.create-child input[name=slug]", "squad")
    page.fill("form.create-child input[name=name]", "Squad")
    with page.expect_navigation():
        page.click("form.create-child button[type=submit]")
    assert "Client Squad créé." in page.inner_text("main")
    ui.go("/tenants/squad/")
    assert page.locator("form.create-child").count() == 0  # level 5: no deeper child offered
    # A user may belong to several nodes: alice (admin of the team) becomes a member of the squad too; a second
    # membership at the same node is refused, in French.
    page.fill("form.add-member input[name=username]", "alice")
    page.select_option("form.add-member select[name=role]", "tenant-member")
    with page.expect_navigation():
        page.click("form.add-member button[type=submit]")
    assert "alice ajouté." in page.inner_text("main")
    assert "Administrateur client · Team" in page.inner_text("table.tenant-members")  # her other membership
    ui.allowed.add("/tenants/squad/")  # the refused form answers 400
    page.fill("form.add-member input[name=username]", "alice")
    with page.expect_navigation():
        page.click("form.add-member button[type=submit]")
    assert "Cet utilisateur est déjà membre du client « squad »." in page.inner_text("form.add-member")
    ui.go("/tenants/")
    assert "niveau 5" in page.locator("ul.tenant-tree").first.inner_text()
    ui.shot("tree-fr")


def test_a_user_of_two_nodes_switches_the_membership_it_acts_with(org: dict[str, Any], watch: Any) -> None:
    """Tenant admin of the project and member of the sibling: the header's switcher, in French then English."""
    user = get_user_model().objects.create_user(username="dual", password="pw-dual-user-42")
    Membership.objects.create(user=user, role=Role.TENANT_ADMIN, tenant=org["project"])
    Membership.objects.create(user=user, role=Role.TENANT_MEMBER, tenant=org["sibling"])
    ui = watch()
    page = ui.page
    ui.login("dual", "pw-dual-user-42")
    ui.go("/tenants/project/")
    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    assert page.locator("form.act-as label").inner_text() == "Agir en tant que"
    assert page.locator("form.create-child").count() == 1  # admin of the project
    page.select_option("form.act-as select[name=membership]", label="Membre client · Sibling directorate")
    with page.expect_navigation():
        page.click("form.act-as button[type=submit]")
    assert "Vous agissez désormais en tant que Membre client pour Sibling directorate." in page.inner_text("main")
    ui.go("/tenants/")
    tree = page.locator("ul.tenant-tree").first.inner_text()
    assert "Sibling directorate" in tree and "Project" not in tree
    ui.allowed.add("/tenants/project/")
    assert ui.go("/tenants/project/").status == 404  # the project is not the sibling's
    ui.shot("acting-as-member-fr")
    with page.expect_navigation():
        page.click(".lang button[value=en]")
    page.select_option("form.act-as select[name=membership]", label="Tenant admin · Project")
    with page.expect_navigation():
        page.click("form.act-as button[type=submit]")
    assert "You now act as Tenant admin at Project." in page.inner_text("main")
    ui.go("/tenants/project/")
    assert page.locator("form.create-child").count() == 1
    ui.shot("acting-as-admin-en")
