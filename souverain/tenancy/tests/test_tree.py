"""The organisation tree: paths, depth, cycles, moves (one prefix query for a subtree)."""

from __future__ import annotations

import pytest
import yaml
from django.core.exceptions import ValidationError

from souverain.tenancy import tree
from souverain.tenancy.models import Tenant
from souverain.tenancy.services import ancestors, descendant_ids, move, subtree_ids


def chain(depth: int, prefix: str = "n") -> list[Tenant]:
    nodes: list[Tenant] = []
    for level in range(1, depth + 1):
        nodes.append(Tenant.objects.create(slug=f"{prefix}{level}", name=f"{prefix} {level}",
                                           parent=nodes[-1] if nodes else None))
    return nodes


def test_pure_rules():
    assert tree.path_of([1, 4, 9]) == "/1/4/9/"
    assert tree.ids_of("/1/4/9/") == [1, 4, 9]
    assert tree.depth_of(tree.child_path("/1/4/", 9)) == 3
    with pytest.raises(tree.TreeError, match="under itself"):
        tree.check_parent(4, "/1/4/", 9, "/1/4/9/")
    with pytest.raises(tree.TreeError, match="6 levels"):
        tree.check_parent(None, None, 5, "/1/2/3/4/5/")
    with pytest.raises(tree.TreeError, match="subtree reaches 2"):
        tree.check_parent(7, "/7/", 3, "/1/2/3/", ["/7/8/", "/7/8/9/"])


@pytest.mark.django_db
def test_paths_ancestors_and_descendants():
    n1, n2, n3, n4 = chain(4)
    sibling = Tenant.objects.create(slug="sib", name="Sibling", parent=n1)
    for node in (n1, n2, n3, n4, sibling):
        node.refresh_from_db()
    assert n4.path == tree.path_of([n1.pk, n2.pk, n3.pk, n4.pk]) and n4.depth == 4
    assert ancestors(n4) == [n1, n2, n3]
    assert ancestors(n1) == []
    assert descendant_ids(n2.pk) == {n3.pk, n4.pk}
    assert subtree_ids(n1.pk) == {n1.pk, n2.pk, n3.pk, n4.pk, sibling.pk}


@pytest.mark.django_db
def test_depth_is_at_most_five_and_cycles_are_refused():
    nodes = chain(5)
    with pytest.raises(ValidationError) as error:
        Tenant.objects.create(slug="n6", name="n6", parent=nodes[-1])
    assert "parent" in error.value.message_dict
    assert not Tenant.objects.filter(slug="n6").exists()
    with pytest.raises(ValidationError) as error:
        move(nodes[1], nodes[3])
    assert "parent" in error.value.message_dict


@pytest.mark.django_db
def test_a_move_rewrites_the_subtree_paths():
    n1, n2, n3, n4 = chain(4)
    other = Tenant.objects.create(slug="other", name="Other")
    move(n3, other)
    n4.refresh_from_db()
    assert n4.path == tree.path_of([other.pk, n3.pk, n4.pk])
    assert descendant_ids(n2.pk) == set()
    assert subtree_ids(other.pk) == {other.pk, n3.pk, n4.pk}
    too_deep = chain(4, "d")
    with pytest.raises(ValidationError, match="levels deep"):
        move(other, too_deep[-1])  # 3 levels under level 4 = 7


@pytest.mark.django_db
def test_the_tenants_file_builds_the_tree_and_refuses_a_sixth_level(tmp_path):
    from souverain.cli.setup import load_example_tenants

    entries = [{"slug": f"t{level}", "name": f"T{level}", **({"parent": f"t{level - 1}"} if level > 1 else {})}
               for level in range(1, 6)]
    good = tmp_path / "tenants.yaml"
    good.write_text(yaml.safe_dump({"tenants": entries}), encoding="utf-8")
    load_example_tenants(good)
    assert Tenant.objects.get(slug="t5").depth == 5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"tenants": [*entries, {"slug": "t6", "name": "T6", "parent": "t5"}]}),
                   encoding="utf-8")
    with pytest.raises(SystemExit, match="parent.*6 levels deep"):
        load_example_tenants(bad)
    assert not Tenant.objects.filter(slug="t6").exists()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(yaml.safe_dump({"tenants": [{"slug": "x", "name": "X", "parent": "nowhere"}]}),
                       encoding="utf-8")
    with pytest.raises(SystemExit, match="parent: unknown tenant 'nowhere'"):
        load_example_tenants(unknown)
