"""The portal in a real browser: an operator's and a tenant member's tours, French, the phone layout."""

from __future__ import annotations

import re
from typing import Any

from django.utils import timezone

from .conftest import ON

DAY = ON.isoformat()
BROKEN_REGO = """package souverain.custom.residency

import rego.v1

deny contains d if {
  d := {"rule": "custom.residency.exposed", "message": "no exposed region"}
  input.region.level ==
}
"""
TESTS_REGO = """package souverain.custom.residency_test

import rego.v1
import data.souverain.custom.residency

test_exposed_is_denied if {
  r := {"level": "exposed"}
  count(residency.deny) == 1 with input.region as r
}
"""


def region_link(page: Any, key: str) -> Any:
    """A region's marker on the map, or its chip on the label of regions drawn on top of each other."""
    chip = page.locator(f'svg.estate-map a.chip[data-region="{key}"]')
    return chip if chip.count() else page.locator(f'svg.estate-map a.marker[data-region="{key}"]')


def test_operator_tour(watch: Any, portal_world: dict[str, Any]) -> None:
    from souverain.inventory.models import Resource

    ui = watch()
    page = ui.page
    ui.login("operator-admin", "pw-operator-admin")

    # The estate map: every region placed, coloured by level; counts per cloud.
    ui.go(f"/?on={DAY}")
    markers = page.locator("svg.estate-map a.marker")
    assert markers.count() == 7
    assert page.locator('svg.estate-map a.marker.level-exposed[data-region="international/eu-west-1"]').count() == 1
    assert page.locator("svg.estate-map a.marker.level-immune").count() == 1
    assert page.locator("svg.estate-map rect.site").count() == 15
    box = page.locator("svg.estate-map").bounding_box()
    assert box and box["width"] > 900 and box["height"] > 300
    assert page.locator("text=Certificates to watch").is_visible()
    ui.shot("estate-map")

    # Click through to a region: profile, ownership graph, certificates, exposure chains.
    with page.expect_navigation():
        region_link(page, "international/eu-west-1").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Europe West (Paris)")
    assert page.locator("svg.ownership g.node").count() >= 8
    assert page.locator("tr.cert-row-expired").count() == 1
    # Both laws reach it through access, each by its own path: the US one through the backup site's
    # colocation landlord, the Chinese one through the stack vendor's remote support.
    chains = page.locator("#channel-access ol.chain").all_inner_texts()
    fisa = [c for c in chains if "FISA section 702" in c]
    nil = [c for c in chains if "National Intelligence Law" in c]
    assert len(fisa) == 1 and "Atlas Interconnect, Inc." in fisa[0], chains
    assert nil and all("remote support access" in c for c in nil), chains
    ui.shot("region")

    # Placement: health data, SecNumCloud required; read why the hyperscaler region is denied.
    ui.go("/placement/")
    page.select_option("#id_tenant", "ministere")
    page.check("input[name=data_classes][value=health]")
    page.check("#id_secnumcloud")
    page.fill("#id_on", DAY)
    with page.expect_response(lambda r: "/placement/?" in r.url and r.status == 200):
        page.click("form.placement-form button[type=submit]")
    page.wait_for_selector("ol.allowed")
    assert "sovereign/fr-paris-1" in page.locator("ol.allowed").inner_text()
    denied = page.locator('details.denied[data-region="nimbus/eu-paris-1"]')
    denied.locator(":scope > summary").click()
    reason = denied.locator(".reason-message").first.inner_text()
    assert len(reason) > 20 and "nimbus" in reason.lower()
    assert "run=1" in page.url  # the simulation is a shareable URL (hx-push-url)
    ui.shot("placement")

    # Inventory: filter by kind through HTMX, then the CSV export of the same filter.
    ui.go("/inventory/")
    assert "of 210" in page.locator("nav .pagination").inner_text()
    with page.expect_response(lambda r: "kind=server" in r.url and r.status == 200):
        page.select_option("#id_kind", "server")
    page.wait_for_function("document.querySelectorAll('table.resources td.kind').length > 0 && "
                           "[...document.querySelectorAll('table.resources td.kind')]"
                           ".every(td => td.textContent.trim() === 'Server')")
    servers = Resource.objects.filter(kind="server", gone_at__isnull=True).count()
    assert f"{servers} rows" in page.locator("#results").inner_text() or f"of {servers}" in page.locator(
        "#results").inner_text()
    assert "kind=server" in page.url
    export = page.locator("a[download]").get_attribute("href")
    csv = page.request.get(ui.base + export)
    assert csv.status == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text().count("\n") == servers + 1
    ui.shot("inventory-filtered")
    with page.expect_navigation():
        page.locator("table.resources td.name a").first.click()
    assert page.locator("#history-title").is_visible() and page.locator("#compliance-title").is_visible()
    ui.shot("resource")

    # Compliance: violations by severity; upload a broken policy and read the error.
    ui.go("/compliance/")
    assert page.locator('a[href="?severity=critical"]').count() == 1
    ui.shot("compliance")
    page.click("text=Upload a policy")
    page.fill("#id_name", "residency")
    page.fill("#id_source", BROKEN_REGO)
    page.fill("#id_tests", TESTS_REGO)
    with page.expect_navigation():
        page.click("text=Check and upload")
    errors = page.locator(".upload-errors")
    assert errors.is_visible()
    first = errors.locator(".upload-error").first.inner_text()
    assert re.search(r"custom/residency\.rego:\d+:\d+", first), first
    assert "Version 1 was rejected" in errors.inner_text()
    ui.shot("policy-upload-error")

    # Sync: a running job is polled with HTMX until it finishes.
    from souverain.jobs.models import Job

    job = Job.objects.create(kind="inventory.sync", status="running", progress=0.4, started=timezone.now(),
                             detail={"sovereign/fr-paris-1": {"kinds": {"servers": "done", "ports": "running"},
                                                              "done": 1, "created": 12}})
    ui.go("/sync/")
    assert page.locator(f'article.job[data-job="{job.pk}"]').is_visible()
    ui.shot("sync-running")
    with page.expect_response(lambda r: r.url.endswith("/sync/jobs/") and r.status == 200, timeout=10_000):
        pass
    Job.objects.filter(pk=job.pk).update(status="succeeded", progress=1.0, finished=timezone.now())
    page.wait_for_selector("#sync-jobs >> text=No sync is running", timeout=10_000)
    assert page.locator("#sync-jobs[hx-trigger]").count() == 0  # polling stopped
    ui.shot("sync-finished")


def test_tenant_member_sees_their_tenant_only_and_switches_to_french(watch: Any,
                                                                     portal_world: dict[str, Any]) -> None:
    from souverain.inventory.models import Resource

    ui = watch()
    page = ui.page
    ui.login("tenant-member", "pw-tenant-member")
    ui.go(f"/?on={DAY}")
    nav = page.locator("header nav").inner_text()
    assert "Sync" not in nav and "Inventory" in nav
    own = Resource.objects.filter(tenant=portal_world["tenants"]["home"], gone_at__isnull=True).count()
    assert page.locator(".stats li").nth(3).inner_text().startswith(str(own))
    ui.shot("estate")

    ui.go("/inventory/")
    assert page.locator("#id_tenant").count() == 0 and page.locator("table.resources th.tenant").count() == 0
    assert f"of {own}" in page.locator("nav .pagination").inner_text()
    foreign_names = set(Resource.objects.filter(tenant=portal_world["tenants"]["foreign"])
                        .values_list("name", flat=True))
    assert not foreign_names & set(page.locator("table.resources td.name a").all_inner_texts())
    ui.shot("inventory")

    ui.go("/placement/")
    assert page.locator("#id_tenant").is_disabled()
    with page.expect_response(lambda r: "/placement/?" in r.url):
        page.click("form.placement-form button[type=submit]")
    page.wait_for_selector("#placement-results h3")
    assert "secnumcloud" in page.locator("#placement-results").inner_text()  # the tenant's default class
    ui.shot("placement")

    # Switch to French: the same pages, in French; the choice sticks.
    with page.expect_navigation():
        page.click(".lang button[value=fr]")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Où cette charge de travail peut-elle vivre" in page.locator("h1").inner_text()
    ui.go(f"/?on={DAY}")
    assert page.locator("h1").inner_text() == "Patrimoine"
    assert "Où vivent les données" in page.inner_text("main")
    ui.shot("estate-fr")
    with page.expect_navigation():
        region_link(page, "sovereign/fr-paris-1").click()
    text = page.inner_text("main")
    assert "Profil de souveraineté" in text and "Immunisée" in text and "Test d'actionnariat" in text
    ui.shot("region-fr")
    ui.go("/compliance/")
    assert "Paquets de politiques intégrés" in page.inner_text("main")
    assert page.locator("text=Téléverser une politique").count() == 0
    ui.shot("compliance-fr")


# Elements sticking out of the screen, unless inside a box that scrolls sideways (wide tables, graphs).
WIDER_THAN_SCREEN = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const right = el.getBoundingClientRect().right;
    if (right <= window.innerWidth + 1) continue;
    let parent = el, scrolls = false;
    while ((parent = parent.parentElement)) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(parent).overflowX)) { scrolls = true; break; }
    }
    if (!scrolls) out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(right)}px`);
  }
  return out.slice(0, 5);
}"""


def test_phone_layout(watch: Any, portal_world: dict[str, Any]) -> None:
    from souverain.estate.models import Region

    ui = watch(width=390, height=844)
    page = ui.page
    ui.login("operator-ops", "pw-operator-ops")
    region = Region.objects.get(cloud__slug="international", slug="eu-west-1")
    for path, label in [(f"/?on={DAY}", "estate"), (f"/regions/{region.pk}/?on={DAY}", "region"),
                        ("/inventory/", "inventory"), ("/placement/?run=1&data_classes=personal", "placement"),
                        ("/sync/", "sync")]:
        ui.go(path)
        ui.shot(label)
        wide = page.evaluate(WIDER_THAN_SCREEN)
        assert not wide, f"{path}: wider than the phone: {wide}"
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px"
    # The map's markers stay big enough to tap on a phone.
    ui.go(f"/?on={DAY}")
    marker = page.locator("svg.estate-map a.marker circle").first.bounding_box()
    assert marker and marker["width"] >= 12
