"""The ownership graph above an operator: every holder up the chain, laid out top-down."""

from __future__ import annotations

import pytest

from souverain.estate import db_snapshot
from souverain.portal import graphs
from souverain.sovereignty.services import current_knowledge_base


@pytest.mark.django_db
def test_the_international_operator_graph_walks_four_levels_to_the_general_partner(example_estate: None) -> None:
    estate = db_snapshot.from_database()
    kb = current_knowledge_base()
    chain = ["hexagone-intl-cloud", "hexagone-telecom"]
    graph = graphs.ownership_graph(estate, "hexagone-intl-cloud", kb.eu_countries, chain)
    nodes = {n.id: n for n in graph.nodes}
    assert {"hexagone-telecom", "meridian-digital", "harbour-bridge-fund", "harbour-bridge-gp",
            "etat-francais"} <= set(nodes)
    assert nodes["hexagone-intl-cloud"].operator and nodes["hexagone-intl-cloud"].eu
    assert not nodes["harbour-bridge-gp"].eu
    edges = {(e.holder, e.owned): e for e in graph.edges}
    assert edges[("meridian-digital", "hexagone-intl-cloud")].capital == 20
    control = edges[("harbour-bridge-gp", "harbour-bridge-fund")]
    assert control.capital is None  # control without capital (general partner)
    assert edges[("hexagone-telecom", "hexagone-intl-cloud")].in_chain
    assert not edges[("meridian-digital", "hexagone-intl-cloud")].in_chain
    # Holders are drawn above what they hold, inside the drawing.
    for edge in graph.edges:
        assert nodes[edge.holder].y < nodes[edge.owned].y
    for node in graph.nodes:
        assert 0 <= node.x and node.x + graph.node_width <= graph.width + 1
        assert node.y + graph.node_height <= graph.height


@pytest.mark.django_db
def test_an_operator_without_shareholders_is_a_single_node(example_estate: None) -> None:
    estate = db_snapshot.from_database()
    graph = graphs.ownership_graph(estate, "gh-saint-martin", current_knowledge_base().eu_countries)
    assert [n.id for n in graph.nodes] == ["gh-saint-martin"] and graph.edges == []
