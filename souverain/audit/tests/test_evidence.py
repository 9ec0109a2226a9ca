"""Evidence packs: reproducible bytes, offline verification that names the damaged member, the PDF's text in
French and English (pdftotext), and the scope (a tenant's resources only)."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import zipfile

import pytest
from django.utils import timezone

from souverain.audit import evidence, evidence_pack

ON = dt.date(2026, 6, 15)
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is missing")


def _resource(tenant, cloud_slug: str, region_slug: str, name: str, kind: str = "server", days_before: int = 30):
    from souverain.estate.models import Region
    from souverain.inventory.models import Resource

    region = Region.objects.select_related("cloud").get(cloud__slug=cloud_slug, slug=region_slug)
    seen = dt.datetime.combine(ON - dt.timedelta(days=days_before), dt.time(9), tzinfo=dt.UTC)
    return Resource.objects.create(kind=kind, cloud=region.cloud, region=region, tenant=tenant,
                                   external_id=f"ext-{name}", name=name, attrs={}, attrs_hash="0", tags=[],
                                   first_seen=seen, last_seen=seen)


@pytest.fixture
def ministry_estate(tenants, example_estate):
    """The example estate, with the ministry's servers in a sovereign region and in a US-controlled one, one
    of the foreign tenant, and a compliance pass on the date (its violations' history)."""
    from souverain.policy import compliance

    home, foreign = tenants["home"], tenants["foreign"]
    made = {
        "paris": _resource(home, "sovereign", "fr-paris-1", "dossiers-citoyens-db"),
        "ireland": _resource(home, "international", "eu-west-1", "portail-usagers-web"),
        "foreign": _resource(foreign, "international", "eu-west-1", "foreign-vm"),
    }
    from souverain.policy.models import Violation

    compliance.evaluate(on=ON, trigger="manual")
    # The pass ran today; its findings are dated before the pack's date, as a pass on that date would have.
    Violation.objects.update(first_seen=dt.datetime.combine(ON - dt.timedelta(days=10), dt.time(8), tzinfo=dt.UTC))
    return made


def _pdf_text(pack: bytes) -> str:
    pdf = zipfile.ZipFile(io.BytesIO(pack)).read("report.pdf")
    # Reading order (no -layout): a table cell's words that wrap stay together.
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def test_pack_is_reproducible_and_verifies_offline(ministry_estate, tenants):
    first = evidence.build_pack(tenant=tenants["home"], on=ON, language="fr")
    second = evidence.build_pack(tenant=tenants["home"], on=ON, language="fr")
    assert first == second
    verdict = evidence_pack.verify(first)
    assert verdict.ok, verdict.problems
    assert [m["name"] for m in verdict.members] == ["evidence.json", "report.pdf"]
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert archive.namelist() == list(evidence_pack.MEMBERS)
    pdf = archive.read("report.pdf")
    info = subprocess.run(["pdfinfo", "-isodates", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    dates = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in info.splitlines()
             if line.startswith(("CreationDate", "ModDate"))}
    assert dates == {"CreationDate": "2026-06-15T00:00:00Z", "ModDate": "2026-06-15T00:00:00Z"}, info


def test_any_changed_byte_fails_naming_the_member(ministry_estate, tenants):
    pack = evidence.build_pack(tenant=tenants["home"], on=ON, language="en")
    archive = zipfile.ZipFile(io.BytesIO(pack))
    infos = {info.filename: info for info in archive.infolist()}

    def data_offset(name: str) -> int:  # stored members: the data follows the local header
        info = infos[name]
        return info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)

    positions = {
        "evidence.json": [data_offset("evidence.json") + 10,
                          data_offset("evidence.json") + infos["evidence.json"].file_size // 2],
        "report.pdf": [data_offset("report.pdf") + 5, data_offset("report.pdf") + infos["report.pdf"].file_size - 10],
        "signature.json": [data_offset("signature.json") + infos["signature.json"].file_size - 20],
        "manifest.json": [data_offset("manifest.json") + 40],
    }
    for member, offsets in positions.items():
        for offset in offsets:
            damaged = bytearray(pack)
            damaged[offset] ^= 0x01
            verdict = evidence_pack.verify(bytes(damaged))
            assert not verdict.ok, (member, offset)
            assert member in {p["member"] for p in verdict.problems}, (member, offset, verdict.problems)
    # A header byte zipfile itself ignores (the local header's modification time), and the central directory.
    for offset, where in ((infos["report.pdf"].header_offset + 10, "report.pdf"),
                          (archive.start_dir + 12, "(zip central directory)")):
        damaged = bytearray(pack)
        damaged[offset] ^= 0x01
        verdict = evidence_pack.verify(bytes(damaged))
        assert not verdict.ok
        assert where in {p["member"] for p in verdict.problems}, (offset, verdict.problems)
    # Every byte, at a stride: none goes unnoticed.
    for offset in range(0, len(pack), 997):
        damaged = bytearray(pack)
        damaged[offset] ^= 0x80
        assert not evidence_pack.verify(bytes(damaged)).ok, offset


def test_verify_against_a_given_public_key(ministry_estate, tenants):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from souverain.audit import keys

    pack = evidence.build_pack(tenant=tenants["home"], on=ON, language="en")
    assert evidence_pack.verify(pack, keys.signing_key().public_key()).ok
    other = evidence_pack.verify(pack, Ed25519PrivateKey.generate().public_key())
    assert not other.ok and other.problems[0]["member"] == "signature.json"
    # A forger re-signing with their own key: the pack is consistent, but not signed by the server's key.
    contents = {name: zipfile.ZipFile(io.BytesIO(pack)).read(name) for name in evidence_pack.CONTENT_MEMBERS}
    forged = evidence_pack.write_pack(contents, ON, Ed25519PrivateKey.generate())
    assert evidence_pack.verify(forged).ok
    assert not evidence_pack.verify(forged, keys.signing_key().public_key()).ok


def test_evidence_json_content(ministry_estate, tenants):
    import json

    pack = evidence.build_pack(tenant=tenants["home"], on=ON, language="en")
    facts = json.loads(zipfile.ZipFile(io.BytesIO(pack)).read("evidence.json"))
    assert facts["date"] == "2026-06-15" and facts["scope"]["tenant"]["slug"] == "ministere"
    names = [r["name"] for r in facts["resources"]]
    assert sorted(names) == ["dossiers-citoyens-db", "portail-usagers-web"]  # not the foreign tenant's
    regions = {r["id"]: r for r in facts["regions"]}
    assert set(regions) == {"sovereign/fr-paris-1", "international/eu-west-1"}
    ireland = regions["international/eu-west-1"]
    assert {"us-fisa-702", "cn-nil-art7"} <= {law["law"] for law in ireland["laws"]}
    assert all(c["channel"] and c["explanation"] and c["chain"] for law in ireland["laws"] for c in law["channels"])
    # The same laws as the exposure analysis says reach the region on that date.
    from souverain.estate.models import Region
    from souverain.estate.services import exposure_for_region

    profile = exposure_for_region(Region.objects.get(cloud__slug="international", slug="eu-west-1"), ON)
    assert {law["law"] for law in ireland["laws"]} == {law["law"] for law in profile["laws"] if law["exposed"]}
    assert ireland["operator"]["chain"] and ireland["datacenters"]["primary"]
    assert not [law for law in regions["sovereign/fr-paris-1"]["laws"] if law["country"] != "FR"]
    assert all(c["evidence_url"] is not None for c in regions["sovereign/fr-paris-1"]["certificates"])
    by_name = {r["name"]: r for r in facts["resources"]}
    assert by_name["dossiers-citoyens-db"]["decision"]["allowed"] is True
    web = by_name["portail-usagers-web"]
    assert web["decision"]["allowed"] is False and web["decision"]["deny"]
    assert web["violations"] and all(v["first_seen"] and v["open_on_date"] for v in web["violations"])
    assert facts["policy_set"]["version"]


def test_violation_resolved_after_the_date_is_open_in_the_pack(ministry_estate, tenants):
    import json

    from souverain.policy.models import Violation

    web = ministry_estate["ireland"]
    Violation.objects.filter(resource=web).update(resolved_at=timezone.now())
    facts = json.loads(zipfile.ZipFile(io.BytesIO(evidence.build_pack(tenant=tenants["home"], on=ON, language="en")))
                       .read("evidence.json"))
    [entry] = [r for r in facts["resources"] if r["name"] == web.name]
    assert entry["violations"] and all(v["resolved_at"] is None for v in entry["violations"])


@pytest.mark.parametrize(("language", "words"), [
    ("fr", ["Dossier de preuves de souveraineté", "Lois qui l'atteignent", "Canal", "refusé", "autorisé"]),
    ("en", ["Sovereignty evidence pack", "Laws that reach it", "Channel", "denied", "allowed"]),
])
def test_pdf_text_names_the_resources_and_laws(ministry_estate, tenants, language, words):
    import json

    from souverain.audit.evidence_pdf import CHANNELS

    pack = evidence.build_pack(tenant=tenants["home"], on=ON, language=language)
    text = " ".join(_pdf_text(pack).split())
    facts = json.loads(zipfile.ZipFile(io.BytesIO(pack)).read("evidence.json"))
    channels = {c["channel"] for region in facts["regions"] for law in region["laws"] for c in law["channels"]}
    words = [*words, *(CHANNELS[channel][language] for channel in channels)]
    for expected in ["dossiers-citoyens-db", "portail-usagers-web", "FISA section 702",
                     "National Intelligence Law of the PRC", "2026-06-15", *words]:
        assert expected in text, expected
    assert "foreign-vm" not in text


def test_bad_scope_and_language():
    with pytest.raises(evidence.ScopeError) as error:
        evidence.build_pack(on=ON)
    assert error.value.field == "tenant"


# --- the API ------------------------------------------------------------------------------------------------


def test_api_pack_for_operators_auditors_and_the_tenant_admin(ministry_estate, api_as):
    url = "/api/evidence/?tenant=ministere&on=2026-06-15&lang=en"
    packs = []
    for username in ("operator-admin", "auditor", "tenant-admin"):
        response = api_as(username).get(url)
        assert response.status_code == 200, (username, response.content[:300])
        assert response["Content-Type"] == "application/zip"
        assert "evidence-ministere-2026-06-15-en.zip" in response["Content-Disposition"]
        packs.append(response.content)
    assert packs[0] == packs[1] == packs[2] and evidence_pack.verify(packs[0]).ok


def test_api_tenant_isolation_and_bad_input(ministry_estate, api_as):
    assert api_as("tenant-member").get("/api/evidence/?tenant=ministere&on=2026-06-15").status_code == 403
    assert api_as(None).get("/api/evidence/?tenant=ministere&on=2026-06-15").status_code in (401, 403)
    # Another tenant's admin: the ministry is unknown to them, and their own pack holds only their resource.
    refused = api_as("foreign-admin").get("/api/evidence/?tenant=ministere&on=2026-06-15")
    assert refused.status_code == 400 and "tenant" in refused.json()
    own = api_as("foreign-admin").get("/api/evidence/?on=2026-06-15&lang=en")
    assert own.status_code == 200
    facts = zipfile.ZipFile(io.BytesIO(own.content)).read("evidence.json").decode()
    assert "foreign-vm" in facts and "dossiers-citoyens-db" not in facts and "portail-usagers-web" not in facts
    admin = api_as("operator-admin")
    for query, field in (("tenant=ministere&on=15/06/2026", "on"), ("tenant=nobody&on=2026-06-15", "tenant"),
                         ("tenant=ministere&on=2026-06-15&lang=de", "lang"),
                         ("region=nowhere/x&on=2026-06-15", "region")):
        response = admin.get(f"/api/evidence/?{query}")
        assert response.status_code == 400 and field in response.json(), (query, response.content)
    # No scope: what an operator may ask for, not a pack of everything.
    index = admin.get("/api/evidence/")
    assert index.status_code == 200 and "ministere" in index.json()["tenants"]


def test_api_region_pack(ministry_estate, api_as):
    response = api_as("auditor").get("/api/evidence/?region=international/eu-west-1&on=2026-06-15&lang=fr")
    assert response.status_code == 200
    import json

    facts = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("evidence.json"))
    assert facts["scope"] == {"region": "international/eu-west-1"}
    assert sorted(r["name"] for r in facts["resources"]) == ["foreign-vm", "portail-usagers-web"]


# --- the CLI ------------------------------------------------------------------------------------------------


def test_cli_build_then_verify_offline_without_django(ministry_estate, tmp_path):
    import os
    import sys

    from click.testing import CliRunner

    from souverain.audit import keys
    from souverain.cli.main import main

    pack = tmp_path / "pack.zip"
    result = CliRunner().invoke(main, ["evidence", "build", "--tenant", "ministere", "--on", "2026-06-15",
                                       "--lang", "en", "-o", str(pack)])
    assert result.exit_code == 0, result.output
    assert pack.read_bytes() == evidence.build_pack(tenant=ministry_estate["paris"].tenant, on=ON, language="en")
    key = tmp_path / "key.pem"
    key.write_text(evidence_pack.public_pem(keys.signing_key().public_key()))
    # A fresh interpreter with no settings: verify must not need (nor import) Django.
    script = ("import sys; from souverain.cli.main import main\n"
              "try:\n    main(['evidence', 'verify', sys.argv[1], '--public-key', sys.argv[2]])\n"
              "finally:\n    assert 'django' not in sys.modules, 'verify imported Django'\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    ok = subprocess.run([sys.executable, "-c", script, str(pack), str(key)], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and "verified" in ok.stdout, ok.stdout + ok.stderr
    damaged = bytearray(pack.read_bytes())
    damaged[zipfile.ZipFile(pack).getinfo("report.pdf").header_offset + 100] ^= 0x01  # in the PDF's data
    pack.write_bytes(bytes(damaged))
    bad = subprocess.run([sys.executable, "-c", script, str(pack), str(key)], capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "FAILED: report.pdf" in bad.stdout, bad.stdout + bad.stderr


# --- the portal's links ---------------------------------------------------------------------------------------


def test_portal_offers_the_pack_on_tenant_region_and_compliance_pages(ministry_estate, role_users, client):
    from souverain.estate.models import Region

    region = Region.objects.get(cloud__slug="international", slug="eu-west-1")
    pages = {
        "/tenants/ministere/": "tenant=ministere",
        f"/regions/{region.pk}/?on=2026-06-15": "region=international%2Feu-west-1&amp;on=2026-06-15",
        "/compliance/?tenant=ministere": "tenant=ministere",
    }
    client.force_login(role_users["operator-admin"])
    for page, query in pages.items():
        body = client.get(page, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert f'href="/api/evidence/?{query}' in body and "Dossier de preuves" in body, page
    client.force_login(role_users["tenant-member"])  # the API refuses them: no link
    assert "/api/evidence/" not in client.get("/tenants/ministere/").content.decode()
    client.force_login(role_users["tenant-admin"])  # their own tenant, in the region page too
    body = client.get(f"/regions/{region.pk}/?on=2026-06-15", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/api/evidence/?tenant=ministere&amp;region=international%2Feu-west-1&amp;on=2026-06-15' in body
