"""The organisation tree in the database: who is above and below a tenant, moves, deletes, effective defaults.

Design note. Tenants nest up to five levels (``tree.MAX_DEPTH``): a ministry, its directorates, their projects.
Each row stores its materialised path (``Tenant.path``, ``"/1/4/9/"``, root first), kept by ``Tenant.save`` —
including the paths of a moved subtree, rewritten in one UPDATE. So:

- ``ancestors(tenant)`` reads the ids from the tenant's own path: one query, root first;
- ``descendant_ids(tenant_id)`` / ``subtree_ids(tenant_id)`` are one prefix query on the indexed path
  (``LIKE '/1/4/%'``); ``subtree_query(tenant_id)`` is the same as a subquery, for ``tenant__in=`` filters that
  never load the ids into Python (the permission layer's subtree rule, quotas, approvals);
- ``move(tenant, parent)`` refuses a cycle or a tree deeper than five levels (``TreeError`` → 400 on
  ``parent``) and is audited (the change log records the parent before and after; an ``tenancy.move`` event
  names the old and new parent);
- ``delete(tenant)`` refuses while the tenant has children, members, project mappings or resources.

Defaults (data classes, requirements, safeguards, legal category) are inherited downwards and only ever made
stricter. How layers merge is the policy app's (``policy.workloads.merge``: classes united, flags OR-ed,
allowed countries intersected, the highest EUCS level); tenancy sits below policy, so the policy app hands
that function over at start-up (``use_defaults_merge``), and ``check_defaults`` refuses a tenant whose own
value would be overridden by a stricter ancestor's (a flag turned off, a country an ancestor excludes, a lower
EUCS level) — naming the field and the ancestor — rather than keeping a value that silently does nothing.
The legal category is inherited as well: a child may state its own only under ancestors that are all of the
least-bound category (``private``: a reseller's customers are other legal persons); under a State
administration, a public body..., it must be the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet, Subquery
from django.utils.translation import gettext as _

from souverain.core import events

from . import categories, tree
from .models import Tenant

TreeError = tree.TreeError

#: The policy app's ``workloads.merge``, handed over at start-up (see ``use_defaults_merge``).
_defaults_merge: Callable[[Iterable[Mapping[str, Any]]], dict[str, Any]] | None = None


def use_defaults_merge(merge: Callable[[Iterable[Mapping[str, Any]]], dict[str, Any]]) -> None:
    global _defaults_merge
    _defaults_merge = merge


# --- the tree -------------------------------------------------------------------------------------------------


def ancestors(tenant: Tenant) -> list[Tenant]:
    """The tenant's ancestors, root first (not the tenant itself): from its parent's path, so that a tenant not
    saved yet, or being moved, gets those of the parent it is given."""
    if tenant.parent_id is None:
        return []
    parent_path = Tenant.objects.filter(pk=tenant.parent_id).values_list("path", flat=True).first()
    ids = tree.ids_of(parent_path or "")
    if not ids:
        return []
    found = {t.pk: t for t in Tenant.objects.filter(pk__in=ids)}
    return [found[i] for i in ids if i in found]


def subtree_query(tenant: Tenant | int) -> QuerySet:
    """A subquery of the ids of the tenant and every tenant below it (``tenant__in=subtree_query(t)``). Given the
    tenant (its path known), the prefix is a constant, which PostgreSQL matches on the path's index; given an id,
    the path is read by a nested subquery."""
    if isinstance(tenant, Tenant) and tenant.path:
        return Tenant.objects.filter(path__startswith=tenant.path).values("pk")
    tenant_id = tenant.pk if isinstance(tenant, Tenant) else tenant
    own_path = Tenant.objects.filter(pk=tenant_id).values("path")[:1]
    return Tenant.objects.filter(path__startswith=Subquery(own_path)).values("pk")


def subtree_ids(tenant_id: int) -> set[int]:
    """The tenant's id and those of every tenant below it: its path by primary key, then one prefix query on the
    indexed path."""
    path = Tenant.objects.filter(pk=tenant_id).values_list("path", flat=True).first()
    if not path:
        return set()
    return set(Tenant.objects.filter(path__startswith=path).values_list("pk", flat=True))


def descendant_ids(tenant_id: int) -> set[int]:
    """The ids of every tenant below this one (not itself): one indexed query."""
    return subtree_ids(tenant_id) - {tenant_id}


def is_in_subtree(tenant_id: int | None, root_id: int) -> bool:
    return tenant_id is not None and tenant_id in subtree_ids(root_id)


def as_tree(tenants: Iterable[Tenant]) -> list[dict[str, Any]]:
    """Nested ``{"tenant": t, "children": [...]}`` of the given tenants; one whose parent is not among them is a
    root of the answer (a tenant user's tree starts at their own node)."""
    rows = sorted(tenants, key=lambda t: (t.depth, t.name.lower()))
    nodes = {t.pk: {"tenant": t, "children": []} for t in rows}
    roots = []
    for t in rows:
        parent = nodes.get(t.parent_id) if t.parent_id else None
        (parent["children"] if parent else roots).append(nodes[t.pk])
    return roots


# --- writes ---------------------------------------------------------------------------------------------------


def move(tenant: Tenant, parent: Tenant | None) -> Tenant:
    """Move ``tenant`` (and its subtree) under ``parent`` (None: make it a root); audited."""
    old_parent = tenant.parent
    if (old_parent.pk if old_parent else None) == (parent.pk if parent else None):
        return tenant
    with transaction.atomic():
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        tenant.parent = parent
        tenant.check_tree()
        check_defaults(tenant)
        tenant.save()
        events.emit("tenancy.move", object_type="tenancy.tenant", object_id=str(tenant.pk), object_repr=tenant.slug,
                    data={"from": old_parent.slug if old_parent else None, "to": parent.slug if parent else None})
    return tenant


class TenantInUse(Exception):
    """A tenant still referred to (children, members, mappings, resources...): ``referenced_by`` maps each kind
    to its count and first names, as the API's 409 shows them (core.api.StillReferenced)."""

    def __init__(self, referenced_by: dict[str, dict[str, Any]]) -> None:
        super().__init__(", ".join(f"{kind}: {v['count']}" for kind, v in referenced_by.items()))
        self.referenced_by = referenced_by


def referrers(tenant: Tenant, shown: int = 10) -> dict[str, dict[str, Any]]:
    """What refers to the tenant, by kind: ``{"tenants": {"count": 2, "objects": [...]}}``."""
    found: dict[str, dict[str, Any]] = {}
    for relation in tenant._meta.related_objects:
        rows = relation.related_model._base_manager.filter(**{relation.field.name: tenant})
        count = rows.count()
        if count:
            found[str(relation.related_model._meta.verbose_name_plural)] = {
                "count": count, "objects": sorted(str(obj) for obj in rows[:shown])}
    return dict(sorted(found.items()))


def delete(tenant: Tenant) -> None:
    """Delete a tenant; refused (``TenantInUse``) while anything refers to it — children (so a whole subtree is
    emptied first), members, project mappings, resources, quotas — rather than cascading silently. Audited."""
    with transaction.atomic():
        referenced_by = referrers(tenant)
        if referenced_by:
            raise TenantInUse(referenced_by)
        events.emit("tenancy.delete", object_type="tenancy.tenant", object_id=str(tenant.pk),
                    object_repr=tenant.slug, data={"parent": tenant.parent.slug if tenant.parent_id else None})
        tenant.delete()


# --- defaults -------------------------------------------------------------------------------------------------


def own_layer(tenant: Tenant, *, with_category: bool = True) -> dict[str, Any]:
    """The defaults a tenant itself states, as a workload descriptor layer (see policy.workloads.merge)."""
    layer: dict[str, Any] = {"data_classes": list(tenant.default_data_classes or []),
                             "requirements": dict(tenant.default_requirements or {}),
                             "safeguards": list(tenant.safeguards or [])}
    if with_category:
        layer["tenant_category"] = tenant.category
    return layer


def defaults_layers(tenant: Tenant) -> list[dict[str, Any]]:
    """The layers of a tenant's effective defaults, root first: its ancestors' then its own. The category is
    the tenant's own (checked against its ancestors' on every write)."""
    return [*(own_layer(a, with_category=False) for a in ancestors(tenant)), own_layer(tenant)]


#: Requirements where the merge keeps one winner (the strictest): a child's value that differs from the merged
#: one is a loosening that would silently do nothing.
_WINNER_REQUIREMENTS = ("secnumcloud", "eu_only", "customer_held_keys", "no_foreign_law", "allowed_countries",
                        "eucs_level")


def check_defaults(tenant: Tenant) -> None:
    """Refuse (ValidationError naming the field and the ancestor) a tenant whose own defaults are looser than
    what it inherits, or whose legal category contradicts an ancestor's."""
    chain = ancestors(tenant)
    if not chain:
        return
    for ancestor in chain:
        if ancestor.category != categories.DEFAULT_TENANT_CATEGORY and ancestor.category != tenant.category:
            raise ValidationError({"category": _(
                "“%(category)s” differs from the category of ancestor “%(ancestor)s” (%(theirs)s): a child tenant "
                "keeps its ancestors' legal category.") % {
                    "category": tenant.category, "ancestor": ancestor.slug, "theirs": ancestor.category}})
    if _defaults_merge is None:
        return
    merge = _defaults_merge
    own = own_layer(tenant, with_category=False)
    stated = own["requirements"]
    inherited = []
    for ancestor in chain:
        inherited.append(own_layer(ancestor, with_category=False))
        effective = merge([*inherited, own])["requirements"]
        alone = merge([own])["requirements"]
        for key in _WINNER_REQUIREMENTS:
            # Unset (absent, null, an empty list) inherits; a stated value must be the merged one.
            if stated.get(key) not in (None, []) and alone[key] != effective[key]:
                raise ValidationError({"default_requirements": _(
                    "%(key)s: %(value)s is looser than what ancestor “%(ancestor)s” requires (%(required)s): a "
                    "child tenant can only make defaults stricter.") % {
                        "key": f"default_requirements.{key}", "value": json.dumps(stated[key]),
                        "ancestor": ancestor.slug, "required": json.dumps(effective[key])}})
