"""The organisation tree's rules, as plain values: no Django, so they are tested (and read) without a database.

Tenants nest (a ministry, its directorates, their projects), at most ``MAX_DEPTH`` levels, the root being level 1.
Each tenant stores its *materialised path*, the ids from the root down to itself: ``"/1/4/9/"``. With it,
"every tenant under 4" is one indexed prefix query (``path LIKE '/1/4/%'``) rather than a recursive walk, and
a tenant's ancestors are read from its own row. A move rewrites the path of the moved subtree only.

This module is the one place for the rules (path syntax, depth, cycles); the database side is in
``souverain/tenancy/services.py`` (``ancestors``, ``descendant_ids``, ``subtree_ids``, ``move``), which calls
these functions and raises their ``TreeError`` as a 400 naming the ``parent`` field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Huawei ManageOne's virtual datacenters nest up to 5 levels; so do tenants.
MAX_DEPTH = 5
SEPARATOR = "/"


class TreeError(ValueError):
    """A refused tree change; ``field`` names the field at fault (``parent``); ``code`` and ``params`` let the
    Django side say it in the reader's language (models.Tenant.check_tree)."""

    def __init__(self, message: str, code: str, field: str = "parent", **params: int) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code
        self.params = params


def path_of(ids: Iterable[int]) -> str:
    """The materialised path of a node whose ancestors-and-self ids are ``ids`` (root first): ``/1/4/9/``."""
    parts = [str(int(i)) for i in ids]
    return SEPARATOR + SEPARATOR.join(parts) + SEPARATOR if parts else SEPARATOR


def ids_of(path: str) -> list[int]:
    """The ids of a path, root first (the node itself last)."""
    return [int(part) for part in path.strip(SEPARATOR).split(SEPARATOR) if part]


def child_path(parent_path: str | None, node_id: int) -> str:
    """The path of ``node_id`` under a parent whose path is ``parent_path`` (None: a root)."""
    return path_of([*ids_of(parent_path or ""), node_id])


def depth_of(path: str) -> int:
    """The level of a node: 1 for a root."""
    return len(ids_of(path))


def check_parent(node_id: int | None, node_path: str | None, parent_id: int | None, parent_path: str | None,
                 subtree_paths: Sequence[str] = ()) -> None:
    """Refuse making ``parent_id`` the parent of ``node_id`` when that would make a cycle or a tree deeper than
    ``MAX_DEPTH``. ``node_path`` is the node's current path (None for a new node); ``subtree_paths`` the current
    paths of its descendants, whose depth moves with it."""
    if parent_id is None:
        new_depth = 1
    else:
        if node_id is not None and (parent_id == node_id or node_id in ids_of(parent_path or "")):
            raise TreeError(f"a tenant cannot be moved under itself or one of its descendants "
                            f"(parent {parent_id} is inside the subtree of {node_id})", "cycle")
        new_depth = depth_of(parent_path or "") + 1
    height = 0  # how many levels the subtree reaches below the node
    if node_path:
        base = depth_of(node_path)
        height = max((depth_of(p) - base for p in subtree_paths), default=0)
    if new_depth + height > MAX_DEPTH:
        if height:
            raise TreeError(f"the tree would be {new_depth + height} levels deep (at most {MAX_DEPTH}): "
                            f"this tenant would be at level {new_depth} and its subtree reaches {height} "
                            f"level(s) below it", "too_deep_subtree", depth=new_depth + height,
                            max=MAX_DEPTH, level=new_depth, height=height)
        raise TreeError(f"the tree would be {new_depth} levels deep (at most {MAX_DEPTH}): the parent is already "
                        f"at level {new_depth - 1}", "too_deep", depth=new_depth, max=MAX_DEPTH,
                        parent_level=new_depth - 1)


def moved_path(path: str, old_prefix: str, new_prefix: str) -> str:
    """A descendant's path after its subtree moved from ``old_prefix`` to ``new_prefix``."""
    if not path.startswith(old_prefix):
        raise ValueError(f"{path!r} is not under {old_prefix!r}")
    return new_prefix + path[len(old_prefix):]
