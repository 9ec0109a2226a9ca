"""Browser test of the What if… page: the seed question asked from a region's profile, the before/after view with
the estate map on each side, in English and then in French."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from .conftest import ON


@pytest.fixture
def whatif_world(example_estate: None, role_users: dict[str, Any], tenants: dict[str, Any]) -> dict[str, Any]:
    from souverain.estate.models import Region
    from souverain.inventory.models import Resource

    region = Region.objects.select_related("cloud").get(cloud__slug="sovereign", slug="fr-paris-1")
    now = timezone.now()
    for n, (tenant, name) in enumerate([(tenants["home"], "ministry-vm"), (tenants["foreign"], "foreign-vm")]):
        Resource.objects.create(kind="server", cloud=region.cloud, region=region, tenant=tenant, external_id=f"e{n}",
                                name=name, status="active", attrs={}, attrs_hash="x",
                                tags=["souverain:classes=health"] if n else [], first_seen=now, last_seen=now)
    return {"region": region}


def test_the_seed_question_before_and_after_in_english_and_french(watch: Any, whatif_world: dict[str, Any]) -> None:
    ui = watch()
    page = ui.page
    ui.login("operator-ops", "pw-operator-ops")
    region = whatif_world["region"]
    ui.go(f"/regions/{region.pk}/?on={ON.isoformat()}")  # from the region's profile: "What if…"
    with page.expect_navigation():
        page.click(".whatif-link a")
    assert page.locator("#id_region").input_value() == str(region.pk)
    page.select_option("#id_like", "international")
    page.select_option("#id_vendor_access", "remote_support")
    page.fill("#id_on", ON.isoformat())
    with page.expect_navigation():
        page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("article.whatif-region")
    results = page.locator("#whatif-results")
    article = page.locator('article.whatif-region[data-region="sovereign/fr-paris-1"]')
    assert "National Intelligence Law of the PRC" in article.inner_text()
    # The same region is immune on the map before and exposed on the map after.
    assert page.locator('#map-before a.marker[data-region="sovereign/fr-paris-1"], '
                        '#map-before a.chip[data-region="sovereign/fr-paris-1"]').first.get_attribute(
                            "class").endswith("level-immune")
    assert page.locator('#map-after a.marker[data-region="sovereign/fr-paris-1"], '
                        '#map-after a.chip[data-region="sovereign/fr-paris-1"]').first.get_attribute(
                            "class").endswith("level-exposed")
    page.click("article.whatif-region summary")
    assert "Longhua Technologies" in article.locator("ul.chains").inner_text()
    names = page.locator("#whatif-resources td a").all_inner_texts()
    assert set(names) == {"ministry-vm", "foreign-vm"}
    assert "secnumcloud.vendor_access" in results.inner_text()
    ui.shot("whatif-en")

    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.wait_for_selector("article.whatif-region")
    assert page.locator("h1").inner_text() == "Et si…"
    text = page.locator("#whatif-results").inner_text()
    assert "Avant et après" in text and "Lois qui l’atteindraient désormais" in text
    assert "Loi sur le renseignement national de la RPC" in text and "deviendraient non conformes" in text
    assert page.locator("#map-before").count() == 1 and page.locator("#map-after").count() == 1
    ui.shot("whatif-fr")


def test_a_workload_saved_from_the_placement_simulator_flips_in_the_whatif_in_both_languages(
        watch: Any, whatif_world: dict[str, Any]) -> None:
    ui = watch()
    page = ui.page
    ui.login("tenant-admin", "pw-tenant-admin")
    ui.go("/placement/")
    page.check("input[name=data_classes][value=diffusion_restreinte]")
    page.fill("#id_on", ON.isoformat())
    with page.expect_response(lambda r: "/placement/?" in r.url and r.status == 200):
        page.click("form.placement-form button[type=submit]")
    page.wait_for_selector("#save-workload")
    assert "sovereign/fr-paris-1" in page.locator("ol.allowed").inner_text()
    page.fill("#id_save_name", "dr-app")
    with page.expect_navigation():
        page.click("#save-workload button[type=submit]")
    assert "Workload “dr-app” saved" in page.locator("ul.messages").inner_text()
    assert page.locator('#saved-workloads tr[data-saved="dr-app"]').count() == 1
    ui.shot("placement-saved-en")

    # The what-if on the seed question: the saved workload loses the sovereign region.
    region = whatif_world["region"]
    ui.go(f"/whatif/?run=1&region={region.pk}&like=international&vendor_access=remote_support&on={ON.isoformat()}")
    saved = page.locator("ul.whatif-saved li", has_text="dr-app")
    assert "loses" in saved.inner_text() and "sovereign/fr-paris-1" in saved.locator(".tag.bad").all_inner_texts()
    ui.shot("whatif-saved-en")

    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    assert page.locator("html").get_attribute("lang") == "fr"
    saved = page.locator("ul.whatif-saved li", has_text="dr-app")
    assert "perd" in saved.inner_text() and "sovereign/fr-paris-1" in saved.inner_text()
    assert "Charges de travail enregistrées" in page.locator("#whatif-results").inner_text()
    ui.shot("whatif-saved-fr")

    # Back on the placement page, in French: the list, and deleting it.
    ui.go("/placement/")
    listing = page.locator("#saved-workloads")
    assert "Charges de travail enregistrées" in listing.inner_text() and "dr-app" in listing.inner_text()
    with page.expect_navigation():
        listing.locator('tr[data-saved="dr-app"] button[type=submit]').click()
    assert "Charge de travail enregistrée « dr-app » supprimée." in page.locator("ul.messages").inner_text()
    assert page.locator('#saved-workloads tr[data-saved="dr-app"]').count() == 0
    assert "Aucune charge de travail enregistrée" in page.locator("#saved-workloads").inner_text()
    ui.shot("placement-saved-deleted-fr")
