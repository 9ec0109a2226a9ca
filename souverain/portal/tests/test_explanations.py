"""Explanations in the reader's language: the §19.6 ownership test's lines, exposure chains, laws' names and why a
law does not reach a region; no internal code nor Python repr in what a page says (issue 10, item 16)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from souverain.estate import estatefile, snapshot
from souverain.estate.exposure import region_profile
from souverain.estate.ownership import Line
from souverain.portal import wording
from souverain.sovereignty.kb import packaged

from .conftest import ON
from .test_i18n import PO, ROOT, read_po

DAY = ON.isoformat()
INTERNAL_CODES = re.compile(r"legal_control|data_location|supply_chain|remote_support|software_supply|"
                            r"\{'|\['|': |\{[a-z_]+\}|%\(\w+\)s")


def example_profiles() -> list[dict[str, Any]]:
    kb = packaged(None)
    estate = snapshot.from_document(estatefile.load(ROOT.parent / "examples/estate/souverain.yaml", kb))
    return [region_profile(estate, cloud.id, region.id, kb, ON) for cloud, region in estate.regions()]


def test_every_explanation_line_of_the_example_estate_is_translated_and_keeps_the_api_english() -> None:
    catalogue = read_po(PO)
    lines = []
    for profile in example_profiles():
        assert [str(Line(line["id"], line["params"])) for line in profile["ownership_lines"]] == \
            profile["ownership"]["explanation"]
        lines += profile["ownership_lines"]
        for hit in profile["exposure"]:
            english = " ← ".join(str(Line(link["id"], link["params"])) for link in hit["chain"])
            assert hit["explanation"] == f"{english} → {hit['law_name']}"  # the API's sentence, unchanged
            lines += hit["chain"]
    ids = {line["id"] for line in lines}
    assert len(ids) >= 15
    missing = sorted(i for i in ids if not (catalogue.get((None, i)) or {}).get("msgstr", [""])[0])
    assert not missing, f"add to {PO.name}: {missing}"
    with translation.override("fr"):
        for line in lines:
            text = wording.render_line(line)
            assert not re.search(r"\{\w+\}", text) and text != str(Line(line["id"], line["params"])), text


def test_a_line_whose_translation_does_not_fit_falls_back_to_english() -> None:
    line = {"id": "{name} has its seat in {country} (EU).", "params": {"name": "Op", "country": "FR"}}
    assert Line.render(line, lambda s: "Siège de {nom}", {}) == "Op has its seat in FR (EU)."
    assert Line.render(line, lambda s: "Siège de {name} : {country}", {"country": lambda c: "France"}) == \
        "Siège de Op : France"


def visible_text(page: str) -> str:
    main = re.search(r"<main.*?</main>", page, re.S).group(0)
    main = re.sub(r"<(script|style|pre|code)\b.*?</\1>", " ", main, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


@pytest.mark.django_db
def test_region_page_explains_in_french_without_internal_codes(login: Any, estate: Any) -> None:
    from souverain.estate.models import Region

    client: Client = login("auditor")
    regions = {f"{r.cloud.slug}/{r.slug}": r.pk for r in Region.objects.select_related("cloud")}
    english = visible_text(client.get(f"/regions/{regions['international/eu-west-1']}/?on={DAY}").content.decode())
    assert "Largest non-EU holder: Harbour Bridge Infrastructure Fund III, L.P. (United States)" in english
    assert not INTERNAL_CODES.search(english), INTERNAL_CODES.search(english)
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    for key, pk in regions.items():
        page = visible_text(client.get(f"/regions/{pk}/?on={DAY}").content.decode())
        assert not INTERNAL_CODES.search(page), (key, INTERNAL_CODES.search(page))
        assert "Siège de " in page and "has its seat" not in page, key
        assert "reaches data only through" not in page and "stores its data" not in page, key
    page = visible_text(client.get(f"/regions/{regions['international/eu-west-1']}/?on={DAY}").content.decode())
    assert "Premier détenteur hors UE : Harbour Bridge Infrastructure Fund III, L.P. (États-Unis), avec 20 % du " \
           "capital" in page
    assert "Région international/eu-west-1 : sauvegardes à Atlas AM5 Amsterdam (Amsterdam, Pays-Bas)" in page
    assert "détenue à 100 % par Atlas Interconnect, Inc. (États-Unis)" in page
    assert "FISA, section 702 (loi américaine" in page and "Loi sur la cybersécurité de la RPC" in page
    # The channels' order follows the knowledge base's rows, which PostgreSQL and SQLite may return differently.
    why_not = re.findall(r"n'atteint les données que par ces canaux : (.*?) ; ici", page)
    # Which laws are listed first also follows that order: every one is said with channels in words.
    words = {"contrôle juridique", "localisation des données", "accès", "chaîne d'approvisionnement"}
    assert why_not and all(set(c.strip() for c in channels.split(",")) <= words for channels in why_not), why_not
    sovereign = visible_text(client.get(f"/regions/{regions['sovereign/fr-paris-1']}/?on={DAY}").content.decode())
    assert "Aucune entité hors UE ne détient de capital ni de droits de vote de Hexagone Cloud Souverain SAS." \
        in sovereign
    cloud = visible_text(client.get("/clouds/nimbus/?on=" + DAY).content.decode())
    assert "au-delà de la limite de 24 %" in cloud and "FISA, section 702" in cloud


def test_why_not_names_channels_in_words() -> None:
    law = {"law": "cn-dsl", "name": "Data Security Law of the PRC", "country": "CN",
           "channels": ["legal_control", "data_location"]}
    with translation.override("en"):
        assert wording.why_not(law) == (
            "Data Security Law of the PRC reaches data only through legal control, data location: no entity in the "
            "operator's control chain is domiciled in China; no primary or backup site is in China.")
    with translation.override("fr"):
        assert wording.why_not(law).startswith("Loi sur la sécurité des données de la RPC n'atteint les données que")
