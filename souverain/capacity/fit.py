"""Would a workload of a given size fit in a region? Pure arithmetic on a capacity report (no Django).

A size is ``{"vcpu", "ram_mb", "disk_gb", "count"}`` (count servers of that shape, 1 by default). One server's
resources must come from one provider tree (a compute node and its nested providers), as Placement allocates
them: a region whose free vCPU adds up to enough, but spread over nodes each too small for one server, is full
for it. So each tree hosts ``min over classes of free // amount`` servers (none when the amount exceeds the
class's ``max_unit``), and the size fits when the trees together host ``count``. A class the size asks for
(amount > 0) that a tree lacks leaves that tree out; classes with amount 0 are not asked for.

A verdict is ``fits``, ``full`` (with what is missing) or ``unknown`` (no measured capacity: no claim either
way). Headroom, for ranking, is the smallest share of a class left free once the size is placed (0 to 1).
Messages are given in English and French, as placement's reasons are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: Size key -> Placement resource class.
SIZE_CLASSES: dict[str, str] = {"vcpu": "VCPU", "ram_mb": "MEMORY_MB", "disk_gb": "DISK_GB"}
UNITS = {"VCPU": ("vCPU", "vCPU"), "MEMORY_MB": ("MiB RAM", "Mio de RAM"), "DISK_GB": ("GiB disk", "Gio de disque")}

FITS, FULL, UNKNOWN = "fits", "full", "unknown"


def demand(size: Mapping[str, Any]) -> tuple[dict[str, int], int]:
    """The per-server amounts by resource class (only those asked for) and the server count."""
    per_server = {rc: int(size.get(key) or 0) for key, rc in SIZE_CLASSES.items() if int(size.get(key) or 0) > 0}
    return per_server, max(int(size.get("count") or 1), 1)


def trees(providers: Iterable[Mapping[str, Any]]) -> list[dict[str, dict[str, int]]]:
    """Per provider tree (root UUID), per class: free (summed) and max_unit (the largest)."""
    grouped: dict[str, dict[str, dict[str, int]]] = {}
    for provider in providers:
        tree = grouped.setdefault(str(provider.get("root_uuid") or provider.get("uuid")), {})
        for rc, inv in (provider.get("inventories") or {}).items():
            into = tree.setdefault(rc, {"free": 0, "max_unit": 0})
            into["free"] += int(inv.get("free", 0))
            into["max_unit"] = max(into["max_unit"], int(inv.get("max_unit", inv.get("total", 0))))
    return list(grouped.values())


def servers_hosted(tree: Mapping[str, Mapping[str, int]], per_server: Mapping[str, int]) -> int:
    hosted = None
    for rc, amount in per_server.items():
        inv = tree.get(rc)
        if inv is None or amount > inv["max_unit"]:
            return 0
        hosted = inv["free"] // amount if hosted is None else min(hosted, inv["free"] // amount)
    return hosted or 0


def placed(tree_list: list[dict[str, dict[str, int]]], shapes: list[dict[str, int]]) -> int:
    """How many of several servers of different shapes find room, biggest first, each on the first tree with room
    (first-fit decreasing: not always the best packing, never a claim that something fits when it does not)."""
    free = [{rc: dict(inv) for rc, inv in tree.items()} for tree in tree_list]
    count = 0
    for shape in sorted(shapes, key=lambda s: tuple(-s.get(rc, 0) for rc in SIZE_CLASSES.values())):
        for tree in free:
            if servers_hosted(tree, shape) >= 1 or not shape:
                for rc, amount in shape.items():
                    tree[rc]["free"] -= amount
                count += 1
                break
    return count


def verdict(report: Mapping[str, Any] | None, size: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
            taken_at: str | None = None) -> dict[str, Any]:
    """Whether ``size`` fits in the region whose capacity ``report`` is (``providers`` and ``region`` sums, as the
    connector gives them); None: capacity unknown. ``size`` is one shape with its ``count``, or a list of them
    (servers of several shapes, e.g. what a tenant runs: "if it moved here, would it fit?")."""
    sizes = [size] if isinstance(size, Mapping) else list(size)
    shapes = [demand(one)[0] for one in sizes for _ in range(demand(one)[1])]
    if report is None or not report.get("providers"):
        return {"status": UNKNOWN, "headroom": None, "taken_at": taken_at, "hosted": None, "missing": {},
                "message": "capacity unknown", "message_fr": "capacité inconnue"}
    sums = report.get("region") or {}
    count = len(shapes)
    if len(sizes) == 1:  # one shape: each tree's room, counted (the same answer as placing them, faster)
        per_server = shapes[0] if shapes else {}
        hosted = sum(servers_hosted(tree, per_server) for tree in trees(report["providers"])) if per_server else count
    else:
        hosted = placed(trees(report["providers"]), shapes)
    needed: dict[str, int] = {}
    for shape in shapes:
        for rc, amount in shape.items():
            needed[rc] = needed.get(rc, 0) + amount
    missing = {rc: max(needed[rc] - int(sums.get(rc, {}).get("free", 0)), 0) for rc in needed}
    missing = {rc: gap for rc, gap in missing.items() if gap}
    headroom = _headroom(sums, needed)
    if hosted >= count:
        return {"status": FITS, "headroom": headroom, "taken_at": taken_at, "hosted": hosted, "missing": {},
                "message": "fits", "message_fr": "tient"}
    en, fr = _shortfall(sums, needed, missing, hosted, count)
    return {"status": FULL, "headroom": 0.0, "taken_at": taken_at, "hosted": hosted, "missing": missing,
            "message": f"allowed but full: {en}", "message_fr": f"autorisée mais pleine : {fr}"}


def _headroom(sums: Mapping[str, Mapping[str, int]], needed: Mapping[str, int]) -> float | None:
    shares = []
    for rc in SIZE_CLASSES.values():
        figures = sums.get(rc)
        if not figures or not figures.get("allocatable"):
            continue
        left = int(figures.get("free", 0)) - needed.get(rc, 0)
        shares.append(max(left, 0) / int(figures["allocatable"]))
    return round(min(shares), 4) if shares else None


def _shortfall(sums: Mapping[str, Mapping[str, int]], needed: Mapping[str, int], missing: Mapping[str, int],
               hosted: int, count: int) -> tuple[str, str]:
    if missing:
        en = ", ".join(f"needs {needed[rc]} {UNITS[rc][0]}, {needed[rc] - missing[rc]} free" for rc in missing)
        fr = ", ".join(f"il faut {needed[rc]} {UNITS[rc][1]}, {needed[rc] - missing[rc]} libres" for rc in missing)
        return en, fr
    # Enough in total, but not on one node per server.
    return (f"enough free in total, but room for only {hosted} of {count} servers, each on one node",
            f"assez de capacité libre au total, mais place pour {hosted} serveur(s) sur {count} seulement, "
            f"chacun sur un seul nœud")
