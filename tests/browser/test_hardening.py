"""The portal's hardening (issue 10, item 16) in a real browser, in English and French: nothing loaded from another
host (the API docs included), error and password pages, the inventory's per-kind tables, grouped placement
reasons, the map's labelled markers, and the phone layout of the new pages (390 px wide, screenshots)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone

from .conftest import ON
from .test_portal import WIDER_THAN_SCREEN

DAY = ON.isoformat()
SERVER = {"id": "srv-0001", "name": "web-2", "status": "ACTIVE", "tenant_id": "p-ministere",
          "flavor": {"original_name": "m1.large"}, "OS-EXT-AZ:availability_zone": "nova",
          "addresses": {"private": [{"addr": "10.0.0.12"}, {"addr": "172.24.4.33"}]},
          "metadata": {"souverain:classes": "health"}}
VOLUME = {"id": "vol-0001", "name": "web-2-data", "status": "in-use", "size": 40, "volume_type": "ceph-ssd",
          "attachments": [{"server_id": "srv-0001", "device": "/dev/vdb"}], "bootable": "false"}


def write(kind: str, item: dict[str, Any], tenant: Any) -> None:
    from souverain.estate.models import Region
    from souverain.inventory.models import Resource

    region = Region.objects.get(cloud__slug="nimbus", slug="eu-paris-1")
    now = timezone.now()
    Resource.objects.create(kind=kind, cloud=region.cloud, region=region, project_id="p-ministere", tenant=tenant,
                            external_id=item["id"], name=item["name"], status=item["status"].lower(), attrs=item,
                            attrs_hash=item["id"], tags=[], first_seen=now, last_seen=now)


def test_nothing_is_loaded_from_another_host(watch: Any, portal_world: dict[str, Any]) -> None:
    ui = watch()
    page = ui.page
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    ui.login("operator-admin", "pw-operator-admin")
    for path in (f"/?on={DAY}", "/inventory/servers/", "/placement/?run=1&data_classes=health", "/compliance/",
                 "/password/"):
        ui.go(path)
    ui.go("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)  # Swagger UI ran, from our static files
    assert "Souverain API" in page.locator(".swagger-ui .info .title").inner_text()
    ui.shot("api-docs")
    own = urlsplit(ui.base).netloc
    foreign = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own]
    assert not foreign, foreign
    assert any("/static/drf_spectacular_sidecar/" in url for url in requested)


def test_error_and_password_pages_in_english_and_french(watch: Any, portal_world: dict[str, Any]) -> None:
    ui = watch()
    page = ui.page
    ui.allowed.update({"/no-such-page/", "/sync/"})
    ui.login("tenant-admin", "pw-tenant-admin")
    response = ui.go("/no-such-page/")
    assert response.status == 404 and page.locator("h1").inner_text() == "Page not found"
    assert page.locator("header nav").is_visible()  # the portal's own page, with its navigation
    ui.shot("404")
    assert ui.go("/sync/").status == 403 and page.locator("h1").inner_text() == "Access refused"
    ui.shot("403")
    page.click("header a.password")
    page.fill("#id_old_password", "pw-tenant-admin")
    page.fill("#id_new_password1", "Une-phrase-de-passe-42")
    page.fill("#id_new_password2", "Une-phrase-de-passe-42")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert "Your password has been changed." in page.locator(".messages").inner_text()
    ui.shot("password-changed")
    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    assert page.locator("h1").inner_text() == "Changer votre mot de passe"
    ui.shot("password-fr")
    ui.go("/no-such-page/")
    assert page.locator("h1").inner_text() == "Page introuvable"
    ui.shot("404-fr")


def test_inventory_per_kind_in_english_and_french(watch: Any, portal_world: dict[str, Any]) -> None:
    home = portal_world["tenants"]["home"]
    write("server", SERVER, home)
    write("volume", VOLUME, home)
    ui = watch()
    page = ui.page
    ui.login("tenant-member", "pw-tenant-member")
    ui.go("/inventory/")
    with page.expect_navigation():
        page.click('.kind-tabs a[data-kind="server"]')
    row = page.locator("table.by-kind tr", has_text="web-2").first
    assert row.locator("td.flavor").inner_text() == "m1.large"
    assert "10.0.0.12" in row.locator("td.addresses").inner_text()
    assert row.locator("td.classes").inner_text() == "health"
    ui.shot("servers")
    with page.expect_navigation():
        page.click('.kind-tabs a[data-kind="volume"]')
    volume = page.locator("table.by-kind tr", has_text="web-2-data").first
    assert volume.locator("td.size").inner_text() == "40 GiB"
    with page.expect_navigation():
        volume.locator("td.attached_to a").click()
    assert page.locator("h1").inner_text().startswith("web-2")
    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    ui.go("/inventory/servers/")
    assert page.locator("table.by-kind th.flavor").inner_text() == "Gabarit"
    assert page.locator('.kind-tabs a[aria-current="page"]').inner_text() == "Serveur"
    ui.shot("servers-fr")


def test_placement_reasons_grouped_in_english_and_french(watch: Any, portal_world: dict[str, Any]) -> None:
    ui = watch()
    page = ui.page
    ui.login("operator-ops", "pw-operator-ops")
    ui.go(f"/placement/?run=1&tenant=ministere&data_classes=health&data_classes=personal&on={DAY}")
    denied = page.locator('details.denied[data-region="nimbus/eu-paris-1"]')
    denied.locator(":scope > summary").click()
    staff = denied.locator('li.reason[data-rule="secnumcloud.support_staff"]')
    assert staff.count() == 1 and staff.locator(".place").all_inner_texts() == ["India", "Singapore",
                                                                                "United States"]
    assert page.locator("section.shared-reasons li").count() >= 2
    ui.shot("placement-grouped")
    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    denied = page.locator('details.denied[data-region="nimbus/eu-paris-1"]')
    denied.locator(":scope > summary").click()
    assert denied.locator('li.reason[data-rule="secnumcloud.support_staff"] .place').all_inner_texts() == [
        "Inde", "Singapour", "États-Unis"]
    ui.shot("placement-grouped-fr")


def test_map_markers_stay_in_place_and_overlapping_ones_are_labelled(watch: Any,
                                                                      portal_world: dict[str, Any]) -> None:
    ui = watch()
    page = ui.page
    ui.login("auditor", "pw-auditor")
    ui.go(f"/?on={DAY}")
    chips = page.locator("svg.estate-map a.chip")
    assert chips.count() >= 2  # the Paris regions share a place
    for index in range(chips.count()):
        key = chips.nth(index).get_attribute("data-region")
        assert page.locator(f'svg.estate-map a.marker[data-region="{key}"]').count() == 1  # still on the map
    ui.shot("map-labels")
    with page.expect_navigation():
        chips.first.click()
    assert "/regions/" in page.url and page.locator("h1").is_visible()


def test_phone_layout_of_the_new_pages(watch: Any, portal_world: dict[str, Any]) -> None:
    home = portal_world["tenants"]["home"]
    write("server", SERVER, home)
    ui = watch(width=390, height=844)
    page = ui.page
    ui.allowed.add("/no-such-page/")
    ui.login("operator-admin", "pw-operator-admin")
    for language in ("en", "fr"):
        if language == "fr":
            with page.expect_navigation():
                page.click(".lang button[value=fr]")
        for path, label in [("/inventory/servers/", "servers"), ("/inventory/volumes/", "volumes"),
                            ("/inventory/", "inventory"), ("/password/", "password"),
                            (f"/placement/?run=1&tenant=ministere&data_classes=health&on={DAY}", "placement"),
                            ("/no-such-page/", "404"), (f"/?on={DAY}", "estate")]:
            ui.go(path)
            ui.shot(f"{label}-{language}")
            wide = page.evaluate(WIDER_THAN_SCREEN)
            assert not wide, f"{path}: wider than the phone: {wide}"
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
