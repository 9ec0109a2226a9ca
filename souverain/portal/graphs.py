"""The ownership graph above an operator, laid out in layers for an inline SVG.

Nodes are the operator and every entity that holds shares in it or controls it, directly or through others;
edges are shareholdings (capital and voting rights) and explicit control (a fund's general partner). The layer
of a node is its longest distance to the operator, so every edge points down; within a layer nodes are ordered
by the mean position of what they hold (barycentre heuristic) to keep edges from crossing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from souverain.estate.snapshot import EstateData

NODE_WIDTH = 240
NODE_HEIGHT = 52
H_GAP = 26
V_GAP = 64
MAX_DEPTH = 10
NAME_CHARS = 29


@dataclass
class GraphNode:
    id: str
    name: str
    short_name: str
    country: str
    kind: str
    eu: bool
    operator: bool
    in_chain: bool
    layer: int = 0
    x: float = 0.0
    y: float = 0.0

    @property
    def text_x(self) -> float:
        return round(self.x + 10, 1)

    @property
    def name_y(self) -> float:
        return round(self.y + 21, 1)

    @property
    def meta_y(self) -> float:
        return round(self.y + 39, 1)


@dataclass
class GraphEdge:
    holder: str
    owned: str
    capital: float | None  # None: control without capital (explicit parent)
    voting: float | None
    in_chain: bool
    holder_name: str = ""
    owned_name: str = ""
    path: str = ""
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass
class OwnershipGraph:
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rstrip() + "…"


def _pct(value: float) -> float:
    return float(Decimal(str(value)).normalize())


def ownership_graph(estate: EstateData, operator: str, eu_countries: frozenset[str],
                    chain: list[str] | None = None) -> OwnershipGraph:
    """``chain``: the entity ids of the operator's control chain, highlighted."""
    chain_ids = set(chain or [operator])
    holders: dict[str, list[tuple[str, float | None, float | None]]] = defaultdict(list)
    for holding in estate.holdings:
        holders[holding.owned].append((holding.holder, holding.capital, holding.voting))
    for child, parent in estate.parents.items():
        if not any(h == parent for h, _, _ in holders[child]):
            holders[child].append((parent, None, None))

    layer: dict[str, int] = {operator: 0}
    frontier = [operator]
    while frontier:
        following = []
        for owned in frontier:
            for holder, _, _ in holders.get(owned, []):
                depth = layer[owned] + 1
                if depth <= MAX_DEPTH and layer.get(holder, -1) < depth:
                    layer[holder] = depth
                    following.append(holder)
        frontier = following

    graph = OwnershipGraph()
    by_id: dict[str, GraphNode] = {}
    for entity_id, depth in layer.items():
        entity = estate.entities.get(entity_id)
        name = entity.name if entity else entity_id
        country = entity.country if entity else ""
        node = GraphNode(entity_id, name, _short(name), country, entity.kind if entity else "",
                         country in eu_countries, entity_id == operator, entity_id in chain_ids, depth)
        by_id[entity_id] = node
        graph.nodes.append(node)
    for owned in layer:
        for holder, capital, voting in holders.get(owned, []):
            if holder in by_id:
                in_chain = owned in chain_ids and holder in chain_ids
                graph.edges.append(GraphEdge(holder, owned, None if capital is None else _pct(capital),
                                             None if voting is None else _pct(voting), in_chain,
                                             by_id[holder].name, by_id[owned].name))
    _layout(graph, by_id)
    return graph


def _layout(graph: OwnershipGraph, by_id: dict[str, GraphNode]) -> None:
    layers: dict[int, list[GraphNode]] = defaultdict(list)
    for node in graph.nodes:
        layers[node.layer].append(node)
    depth = max(layers) if layers else 0
    order: dict[str, float] = {}
    for index in range(depth + 1):
        nodes = layers[index]
        if index == 0:
            nodes.sort(key=lambda n: n.name)
        else:
            def barycentre(node: GraphNode) -> tuple[float, str]:
                below = [order[e.owned] for e in graph.edges if e.holder == node.id and e.owned in order]
                return (sum(below) / len(below) if below else 0.0, node.name)
            nodes.sort(key=barycentre)
        for position, node in enumerate(nodes):
            order[node.id] = position - (len(nodes) - 1) / 2
    widest = max((len(nodes) for nodes in layers.values()), default=1)
    graph.width = widest * (NODE_WIDTH + H_GAP) - H_GAP + 2
    graph.height = (depth + 1) * (NODE_HEIGHT + V_GAP) - V_GAP + 2
    for node in graph.nodes:
        node.x = graph.width / 2 + order[node.id] * (NODE_WIDTH + H_GAP) - NODE_WIDTH / 2
        node.y = (depth - node.layer) * (NODE_HEIGHT + V_GAP) + 1
    for edge in graph.edges:
        holder, owned = by_id[edge.holder], by_id[edge.owned]
        x1, y1 = holder.x + NODE_WIDTH / 2, holder.y + NODE_HEIGHT
        x2, y2 = owned.x + NODE_WIDTH / 2, owned.y - 4
        middle = (y1 + y2) / 2
        edge.path = f"M{x1:.1f} {y1:.1f}C{x1:.1f} {middle:.1f} {x2:.1f} {middle:.1f} {x2:.1f} {y2:.1f}"
        # The label sits a third of the way down from the holder, where edges into one node are still apart.
        t = 0.3
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
        edge.label_x = round(a * x1 + b * x1 + c * x2 + d * x2, 1)
        edge.label_y = round(a * y1 + (b + c) * middle + d * y2 + 4, 1)
