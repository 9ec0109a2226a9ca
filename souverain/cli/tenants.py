"""`souverain tenants …`: the organisation tree and its members through the API (operators and tenant admins
onboard tenants, members and roles without a Python shell; the server applies the same rules as the portal)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from .output import FORMAT_OPTION, console, emit, fail, say


def _client() -> Any:
    from .client import ApiError, Client

    try:
        return Client(profile=click.get_current_context().find_root().params.get("profile"))
    except ApiError as exc:
        fail(str(exc))


def _call(method: str, path: str, **kwargs: Any) -> Any:
    from .client import ApiError

    try:
        return _client().request(method, path, **kwargs)
    except ApiError as exc:
        fail(str(exc))


def _all(path: str, **params: Any) -> list[dict[str, Any]]:
    from .client import ApiError

    try:
        return _client().list_all(path, **params)
    except ApiError as exc:
        fail(str(exc))
        return []


def _slug(value: str) -> str:
    return quote(value, safe="")


@click.group()
def tenants() -> None:
    """Tenants: the organisation tree (up to 5 levels) and who has which role where."""


@tenants.command("tree")
@FORMAT_OPTION
def tenants_tree(fmt: str) -> None:
    """The organisation tree you may see, each node with its slug and number of members."""
    from rich.markup import escape
    from rich.tree import Tree

    roots = _call("GET", "/api/tenants/tree/") or []
    if fmt == "json":
        emit(roots, fmt)
        return
    if not roots:
        say("no tenants")
        return

    def grow(branch: Any, node: dict[str, Any]) -> None:
        child = branch.add(f"[bold]{escape(node['slug'])}[/]  {escape(node['name'])}  "
                           f"[dim]level {node['depth']} · {node['members']} member(s)[/]")
        for sub in node["children"]:
            grow(child, sub)

    top = Tree("tenants", hide_root=True)
    for root in roots:
        grow(top, root)
    console.print(top, highlight=False)


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The tenant's name.")
@click.option("--parent", default=None, help="Slug of the parent tenant (default: a root; tenant admins: required).")
@click.option("--category", default=None, help="Legal category (default: the parent's, or private).")
@click.option("--description", default=None)
@FORMAT_OPTION
def tenants_create(slug: str, name: str, parent: str | None, category: str | None, description: str | None,
                   fmt: str) -> None:
    """Create a tenant, below PARENT when given."""
    body: dict[str, Any] = {"slug": slug, "name": name, "parent": parent}
    if category is None and parent:
        from .client import ApiError

        try:  # the parent's category, which a child keeps; an unknown parent is the server's to refuse, by name
            category = (_client().request("GET", f"/api/tenants/{_slug(parent)}/") or {}).get("category")
        except ApiError:
            category = None
    if category:
        body["category"] = category
    if description is not None:
        body["description"] = description
    created = _call("POST", "/api/tenants/", json=body)
    if fmt == "json":
        emit(created, fmt)
        return
    say(f"tenant {created['slug']} created" + (f" below {created['parent']}" if created.get("parent") else "")
        + f" (level {created['depth']})")


@tenants.command("move")
@click.argument("slug")
@click.option("--parent", default=None, help="Slug of the new parent (omit: make it a root).")
def tenants_move(slug: str, parent: str | None) -> None:
    """Move a tenant and its subtree below another parent."""
    moved = _call("POST", f"/api/tenants/{_slug(slug)}/move/", json={"parent": parent})
    say(f"tenant {moved['slug']} is now " + (f"below {moved['parent']}" if moved.get("parent") else "a root")
        + f" (level {moved['depth']})")


@tenants.command("delete")
@click.argument("slug")
def tenants_delete(slug: str) -> None:
    """Delete a tenant (refused while it has children, members, mappings or resources)."""
    _call("DELETE", f"/api/tenants/{_slug(slug)}/")
    say(f"tenant {slug} deleted")


@tenants.group("members")
def members() -> None:
    """Who has which role at a tenant."""


@members.command("list")
@click.argument("slug", required=False)
@FORMAT_OPTION
def members_list(slug: str | None, fmt: str) -> None:
    """Memberships you may see (of one tenant with SLUG)."""
    rows = _all("/api/memberships/")
    if slug:
        rows = [row for row in rows if row.get("tenant") == slug]
    rows.sort(key=lambda row: (row.get("tenant") or "", row["username"]))
    emit(rows, fmt, [("username", "User"), ("role", "Role"), ("tenant", "Tenant"), ("id", "Id")])


@members.command("add")
@click.argument("slug")
@click.argument("username")
@click.option("--role", type=click.Choice(["tenant-admin", "tenant-member", "auditor"]), default="tenant-member",
              show_default=True)
@click.option("--email", default=None, help="For a user created by this command.")
@click.option("--password", default=None, envvar="SOUVERAIN_MEMBER_PASSWORD",
              help="For a user created by this command (default: none, an operator sets it).")
def members_add(slug: str, username: str, role: str, email: str | None, password: str | None) -> None:
    """Give USERNAME a role at tenant SLUG (creating the user when it does not exist)."""
    body: dict[str, Any] = {"username": username, "role": role, "tenant": slug}
    if email:
        body["email"] = email
    if password:
        body["password"] = password
    created = _call("POST", "/api/memberships/", json=body)
    say(f"{created['username']} is {created['role']} of {created['tenant']}")


def _membership(slug: str, username: str) -> dict[str, Any]:
    for row in _all("/api/memberships/"):
        if row.get("tenant") == slug and row["username"] == username:
            return row
    fail(f"{username} has no membership at tenant {slug}")
    return {}


@members.command("set-role")
@click.argument("slug")
@click.argument("username")
@click.argument("role", type=click.Choice(["tenant-admin", "tenant-member", "auditor"]))
def members_set_role(slug: str, username: str, role: str) -> None:
    """Change USERNAME's role at tenant SLUG."""
    row = _membership(slug, username)
    changed = _call("PATCH", f"/api/memberships/{row['id']}/", json={"role": role})
    say(f"{changed['username']} is {changed['role']} of {changed['tenant']}")


@members.command("remove")
@click.argument("slug")
@click.argument("username")
def members_remove(slug: str, username: str) -> None:
    """Remove USERNAME's membership at tenant SLUG."""
    row = _membership(slug, username)
    _call("DELETE", f"/api/memberships/{row['id']}/")
    say(f"{username} is no longer a member of {slug}")
