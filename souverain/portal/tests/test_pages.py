"""Every portal page on the example estate: what it shows, for whom, and its empty states."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from souverain.inventory.models import Resource
from souverain.jobs.models import Job
from souverain.policy.models import OperatorPolicy, PolicyVersion

from .conftest import ON

pytestmark = pytest.mark.django_db
DAY = ON.isoformat()


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_anonymous_users_are_sent_to_the_login_page(client: Client, estate: Any) -> None:
    for url in ["/", "/inventory/", "/placement/", "/compliance/", "/sync/", "/compliance/upload/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    assert client.get("/login/").status_code == 200


def test_login_with_the_form_then_land_on_the_estate(client: Client, estate: Any) -> None:
    response = client.post("/login/", {"username": "tenant-member", "password": "pw-tenant-member", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Estate" in text(client.get("/"))
    bad = Client().post("/login/", {"username": "tenant-member", "password": "wrong"})
    assert "Wrong username or password" in text(bad)


def test_overview_places_every_region_coloured_by_level(login: Any, estate: Any) -> None:
    page = text(login("operator-ops").get(f"/?on={DAY}"))
    for key, level in [("sovereign/fr-paris-1", "immune"), ("international/eu-west-1", "exposed"),
                       ("nutanix-private/clermont-dc1", "informational")]:
        assert re.search(rf'class="marker level-{level}" data-region="{re.escape(key)}"', page), key
    assert page.count('class="site ') == 15  # every datacenter of the example estate
    assert "Outside this view" in page and "international/ap-southeast-1" in page  # Singapore, off the Europe view
    assert 'href="/static/portal/world.svg#countries"' in page
    # Counts per cloud, and the certificate watch list on the decision date.
    assert "140</strong></a> resources" in page
    assert re.search(r'<strong class="cert-expired">expired</strong> hds 2018', page)
    assert re.search(r'<strong class="cert-expiring">expiring soon</strong> c5 2020', page)


def test_world_view_and_bad_dates(login: Any, estate: Any) -> None:
    client = login("auditor")
    world = text(client.get("/?view=world"))
    assert 'data-view="world"' in world and "Outside this view" not in world
    assert "is not a date" in text(client.get("/?on=yesterday"))


def test_overview_empty_state_says_how_to_add_a_cloud(login: Any, role_users: Any, kb_loaded: None) -> None:
    page = text(login("operator-admin").get("/"))
    assert "No cloud yet" in page and "souverain estate apply" in page


def test_region_page_has_the_profile_graph_certificates_and_exposure_chains(login: Any, estate: Any) -> None:
    from souverain.estate.models import Region

    region = Region.objects.get(cloud__slug="international", slug="eu-west-1")
    page = text(login("tenant-member").get(f"/regions/{region.pk}/?on={DAY}"))
    assert 'class="level-banner level-exposed"' in page
    assert "Hexagone International Cloud SAS" in page and "Atlas AM5 Amsterdam" in page
    assert '<svg class="ownership"' in page and "Harbour Bridge Capital Manageme" in page
    assert "SecNumCloud §19.6 ownership test" in page and 'class="ok-text">passed' in page
    assert re.search(r'class="cert-row-expired" data-state="expired"> <td>[^<]*HDS', page)
    assert 'id="channel-access"' in page and "FISA section 702" in page
    assert re.search(r'<ol class="chain"[^>]*> <li>Region international/eu-west-1', page)
    assert "Laws that do not reach this region" in page
    assert f'/api/regions/{region.pk}/exposure/' in page


def test_cloud_page_lists_regions_and_expiring_certificates(login: Any, estate: Any) -> None:
    page = text(login("auditor").get(f"/clouds/nimbus/?on={DAY}"))
    assert "nimbus/eu-paris-1" in page and "Nimbus Web Services EMEA Limited" in page
    assert 'data-state="expiring"' in page and "36 days left" in page
    assert login("auditor").get("/clouds/nope/").status_code == 404


def test_inventory_filters_search_orders_and_paginates(login: Any, estate: Any) -> None:
    client = login("operator-admin")
    page = text(client.get("/inventory/"))
    assert "1–50 of 140" in page and 'aria-current="page">1<' in page
    assert "/api/inventory/resources/?format=csv" in page
    servers = text(client.get("/inventory/?kind=server"))
    assert "of 20" in servers or "20 rows" in servers
    assert set(re.findall(r'<td class="kind"[^>]*>([^<]*)</td>', servers)) <= {"Server"}
    one = Resource.objects.filter(kind="volume").order_by("name").first()
    found = text(client.get(f"/inventory/?q={one.name}"))
    assert one.name in found and "1 row" in found
    ordered = text(client.get("/inventory/?sort=-name"))
    names = re.findall(r'<a href="/inventory/\d+/">([^<]+)</a>', ordered)
    assert names == sorted(names, reverse=True) and len(names) == 50
    assert 'aria-sort="descending"' in ordered
    second = text(client.get("/inventory/?page=2"))
    assert "51–100 of 140" in second


def test_csv_export_link_keeps_the_filters_and_order(login: Any, estate: Any) -> None:
    client = login("operator-admin")
    page = client.get("/inventory/?kind=server&sort=-name").content.decode()
    href = re.search(r'href="(/api/inventory/resources/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "kind=server" in href and "ordering=-name" in href and "format=csv" in href
    response = client.get(href)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_inventory_empty_state(login: Any, role_users: Any, example_estate: None) -> None:
    page = text(login("operator-admin").get("/inventory/"))
    assert "No resource yet" in page and "Sync" in page


def test_resource_page_has_history_and_compliance_state(login: Any, evaluated: Any) -> None:
    from django.utils import timezone

    from souverain.inventory.models import ResourceChange

    resource = Resource.objects.filter(tenant__slug="ministere").first()
    ResourceChange.objects.create(resource=resource, time=timezone.now(), action="updated",
                                  changes={"status": {"before": "ACTIVE", "after": "SHUTOFF"}})
    page = text(login("tenant-member").get(f"/inventory/{resource.pk}/"))
    assert resource.name in page and "Changed" in page and "Discovered" in page and "SHUTOFF" in page
    violations = resource.violations.filter(resolved_at__isnull=True)
    if violations:
        assert violations[0].rule in page and 'class="sev sev-' in page
    else:
        assert "No open violation" in page
    clean = Resource.objects.filter(region__cloud__slug="sovereign", tenant__slug="ministere").first()
    assert "No open violation" in text(login("tenant-member").get(f"/inventory/{clean.pk}/"))
    # A server: compliance judges only the kinds that hold data, not ports or security-group rules.
    exposed = Resource.objects.filter(region__cloud__slug="nimbus", tenant__slug="ministere", kind="server").first()
    page = text(login("tenant-member").get(f"/inventory/{exposed.pk}/"))
    assert "secnumcloud." in page and "Critical" in page


def test_placement_shows_allowed_regions_ranked_and_denial_reasons(login: Any, estate: Any) -> None:
    client = login("operator-ops")
    assert "press Simulate" in text(client.get("/placement/"))
    page = text(client.get("/placement/?run=1&tenant=ministere&data_classes=health&secnumcloud=on&on=" + DAY))
    allowed = re.search(r'<ol class="allowed">(.*?)</ol>', page).group(1)
    assert "sovereign/fr-paris-1" in allowed and "nimbus/eu-paris-1" not in allowed
    assert re.search(r'data-region="nimbus/eu-paris-1".*?class="reason-message">[^<]+', page)
    bad = text(client.get("/placement/?run=1&allowed_countries=FRANCE"))
    assert "two-letter country codes" in bad


def test_a_tenant_member_places_only_for_their_own_tenant(login: Any, estate: Any) -> None:
    page = text(login("tenant-member").get("/placement/?run=1&tenant=other-corp&on=" + DAY))
    assert re.search(r'<select name="tenant"[^>]*disabled', page)
    assert "Packs applied" in page  # the ministère's default class (diffusion_restreinte) brings SecNumCloud
    assert "secnumcloud" in page


BROKEN = "package souverain.custom.acme\n\nimport rego.v1\n\ndeny contains msg if {\n  input.region.level ==\n}\n"
GOOD = ('package souverain.custom.acme\n\nimport rego.v1\n\ndeny contains d if {\n  input.region.level == "exposed"\n'
        '  d := {"rule": "custom.acme.exposed", "message": "no exposed region"}\n}\n')
TESTS = ('package souverain.custom.acme_test\n\nimport rego.v1\nimport data.souverain.custom.acme\n\n'
         'test_denies_exposed if {\n  r := {"level": "exposed"}\n  count(acme.deny) == 1 with input.region as r\n}\n')


def test_compliance_lists_packs_and_rules_show_their_rego(login: Any, estate: Any) -> None:
    client = login("tenant-member")
    page = text(client.get("/compliance/"))
    assert "/compliance/rules/secnumcloud/" in page and "No operator policy yet" in page
    assert "No compliance pass has run yet" in page and "No open violation" in page
    assert "Upload a policy" not in page and "Run a compliance pass" not in page  # operators only
    rule = text(client.get("/compliance/rules/hds/"))
    assert "package souverain.hds" in rule and "package souverain.hds_test" in rule
    assert client.get("/compliance/rules/nope/").status_code == 404


def test_open_violations_by_severity_tenant_and_rule(login: Any, evaluated: Any) -> None:
    from souverain.policy.models import Violation

    client = login("auditor")
    page = text(client.get("/compliance/"))
    assert "Last compliance pass" in page
    for severity in ("critical", "high"):
        assert f'href="?severity={severity}"' in page
    assert 'href="?tenant=ministere"' in page and 'href="?tenant=other-corp"' in page
    assert 'href="?rule=secnumcloud.qualification"' in page
    critical = text(client.get("/compliance/?severity=critical&tenant=other-corp"))
    shown = set(re.findall(r'<td class="tenant"[^>]*>([^<]*)</td>', critical))
    assert shown == {"Other Corp"}
    assert set(re.findall(r'class="sev sev-(\w+)"', critical.split('id="violations"')[1])) == {"critical"}
    total = Violation.objects.filter(resolved_at__isnull=True, severity="critical", tenant__slug="other-corp").count()
    assert f"of {total}" in critical or f"{total} row" in critical
    rule = text(client.get("/compliance/rules/secnumcloud/"))
    assert "open violations" in rule and "/compliance/?rule=secnumcloud." in rule
    member = text(login("tenant-member").get("/compliance/"))
    assert 'href="?tenant=other-corp"' not in member and "Other Corp" not in member


def test_operators_run_a_compliance_pass(login: Any, estate: Any) -> None:
    before = set(Job.objects.values_list("pk", flat=True))  # loading the estate may have queued its own
    response = login("operator-ops").post("/compliance/", follow=True)
    assert response.redirect_chain == [("/compliance/", 302)]
    [job] = Job.objects.exclude(pk__in=before)
    assert (job.kind, job.status, job.params) == (
        "policy.compliance", "queued", {"trigger": "manual", "resource_ids": None, "on": None})
    assert f"Compliance pass queued (job #{job.pk})." in text(response)
    assert login("auditor").post("/compliance/").status_code == 403
    assert Job.objects.exclude(pk__in=before).count() == 1


def test_uploading_a_broken_policy_shows_where_it_breaks_and_changes_nothing(login: Any, estate: Any) -> None:
    client = login("operator-admin")
    response = client.post("/compliance/upload/", {"name": "acme", "source": BROKEN, "tests": TESTS})
    page = text(response)
    assert response.status_code == 200 and "Version 1 was rejected" in page
    assert re.search(r"<code>custom/acme.rego:6:\d+</code>", page) and "6 | input.region.level ==" in page
    assert PolicyVersion.objects.get().status == "rejected"
    assert OperatorPolicy.objects.get(name="acme").active_version is None


def test_uploading_a_good_policy_activates_it(login: Any, estate: Any) -> None:
    client = login("operator-admin")
    response = client.post("/compliance/upload/", {"name": "acme", "source": GOOD, "tests": TESTS,
                                                   "description": "no exposed region"})
    assert response.status_code == 302 and response["Location"] == "/compliance/rules/acme/"
    page = text(client.get("/compliance/rules/acme/"))
    assert "is now active" in page and "v1" in page and "1 test passed" in page
    prefilled = text(client.get("/compliance/upload/?name=acme"))
    assert "custom.acme.exposed" in prefilled


@pytest.mark.parametrize("username", ["operator-ops", "auditor", "tenant-admin", "tenant-member"])
def test_only_operator_admins_upload(login: Any, estate: Any, username: str) -> None:
    client = login(username)
    assert client.get("/compliance/upload/").status_code == 403
    assert client.post("/compliance/upload/", {"name": "acme", "source": GOOD, "tests": TESTS}).status_code == 403
    assert not OperatorPolicy.objects.exists()


def test_sync_page_polls_running_jobs_and_stops_when_none(login: Any, estate: Any) -> None:
    client = login("auditor")
    idle = text(client.get("/sync/jobs/"))
    assert "No sync is running" in idle and "hx-trigger" not in idle
    Job.objects.create(kind="inventory.sync", status="running", progress=0.5,
                       detail={"sovereign/fr-paris-1": {"kinds": {"servers": "done", "ports": "running"}, "done": 1}})
    page = text(client.get("/sync/"))
    assert 'hx-get="/sync/jobs/" hx-trigger="every 2s"' in page and "1 / 2" in page and "ports" in page
    assert "Sync all clouds" not in page  # auditors read, never start
    assert client.post("/sync/", {}).status_code == 403


def test_operators_start_a_sync(login: Any, estate: Any) -> None:
    client = login("operator-ops")
    response = client.post("/sync/", {"cloud": "sovereign"})
    assert response.status_code == 302
    job = Job.objects.get(kind="inventory.sync")
    assert job.params["clouds"] == ["sovereign"] and job.requested_by == "operator-ops"
    assert "queued" in text(client.get("/sync/"))


def test_tenant_users_have_no_sync_page_nor_link(login: Any, estate: Any) -> None:
    client = login("tenant-admin")
    assert client.get("/sync/").status_code == 403
    assert 'href="/sync/"' not in text(client.get("/"))


def test_no_template_syntax_or_blank_choices_leak_into_pages(login: Any, evaluated: Any) -> None:
    from souverain.estate.models import Region

    client = login("operator-admin")
    region = Region.objects.first()
    resource = Resource.objects.first()
    for url in ["/", "/inventory/", "/inventory/?kind=server", f"/inventory/{resource.pk}/", f"/regions/{region.pk}/",
                "/clouds/sovereign/", "/placement/?run=1&data_classes=health", "/compliance/",
                "/compliance/rules/hds/", "/compliance/upload/", "/sync/", "/login/"]:
        page = client.get(url).content.decode()
        for leak in ("{#", "#}", "{%", "%}", "{{", "}}", "---------"):
            assert leak not in page, f"{leak!r} in {url}"
