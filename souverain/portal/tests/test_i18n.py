"""French: the catalogue is complete, compiled, and the pages are in French when the user asks for it."""

from __future__ import annotations

import ast
import gettext as gettext_module
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PORTAL = ROOT / "portal"
CALL = re.compile(r"\b(gettext|gettext_lazy|ngettext|pgettext|pgettext_lazy|npgettext|_)\(")


def read_po(path: Path) -> dict[tuple[str | None, str], dict[str, Any]]:
    """(context, msgid) → {"msgstr": [...], "fuzzy": bool}; enough of the PO format for our own file."""
    entries: dict[tuple[str | None, str], dict[str, Any]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid"):
            strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            entries[(fields.get("msgctxt"), fields["msgid"])] = {"msgstr": strs, "fuzzy": "#, fuzzy" in block}
    return entries


def calls(code: str) -> list[tuple[str | None, str]]:
    """(context, msgid) of every gettext-family call with literal arguments in Python source."""
    found = []
    for match in CALL.finditer(code):
        start = match.end()
        for end in range(start, min(len(code), start + 2000)):
            if code[end] != ")":
                continue
            try:
                node = ast.parse(f"f({code[start:end]})", mode="eval").body
            except SyntaxError:
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            name = match.group(1)
            if name.startswith(("pgettext", "npgettext")) and len(args) >= 2:
                found.append((args[0], args[1]))
            elif args and not name.startswith(("pgettext", "npgettext")):
                found.append((None, args[0]))
            break
    return found


def portal_msgids() -> set[tuple[str | None, str]]:
    ids: set[tuple[str | None, str]] = set()
    for template in (PORTAL / "templates").rglob("*.html"):
        ids.update(calls(templatize(template.read_text(encoding="utf-8"), origin=str(template))))
    for module in PORTAL.rglob("*.py"):
        if "tests" not in module.parts:
            ids.update(calls(module.read_text(encoding="utf-8")))
    return ids


def test_every_portal_string_is_in_the_french_catalogue_and_translated() -> None:
    catalogue = read_po(PO)
    wanted = portal_msgids()
    assert len(wanted) > 250
    missing = sorted(str(k) for k in wanted if k not in catalogue)
    assert not missing, f"run makemessages (souverain/locale/README.md): {missing[:10]}"
    untranslated = sorted(str(k) for k, v in catalogue.items() if v["fuzzy"] or not all(v["msgstr"]))
    assert not untranslated, f"translate: {untranslated[:10]}"


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    compiled = gettext_module.GNUTranslations(MO.open("rb"))
    for (context, msgid), entry in read_po(PO).items():
        key = f"{context}\x04{msgid}" if context else msgid
        if len(entry["msgstr"]) == 1:
            assert compiled._catalog.get(key) == entry["msgstr"][0], f"run compilemessages: {msgid!r}"
        else:
            assert compiled._catalog.get((key, 0)) == entry["msgstr"][0], f"run compilemessages: {msgid!r}"


@pytest.mark.django_db
def test_pages_are_in_french_after_switching(client: Client, estate: Any, role_users: Any) -> None:
    from souverain.estate.models import Region

    client.force_login(role_users["tenant-member"])
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    page = client.get("/?on=2026-11-25").content.decode()
    assert '<html lang="fr">' in page
    for text in ["Patrimoine", "Où vivent les données", "Exposée", "Immunisée", "Certificats à surveiller",
                 "Se déconnecter", "Inventaire", "ressources"]:
        assert text in page, text
    region = Region.objects.get(cloud__slug="international", slug="eu-west-1")
    page = client.get(f"/regions/{region.pk}/?on=2026-11-25").content.decode()
    for text in ["Profil de souveraineté", "Pays-Bas", "Exposition aux lois étrangères", "Accès", "expiré",
                 "Actionnariat et contrôle", "Support à distance"]:
        assert text in page, text
    assert "Où cette charge de travail peut-elle vivre" in client.get("/placement/").content.decode()
    assert "Paquets de politiques intégrés" in client.get("/compliance/").content.decode()
    # French numbers in text, never inside SVG coordinates.
    assert re.search(r'<circle cx="\d+(\.\d+)?" cy="\d+(\.\d+)?" r="[\d.]+"', client.get("/").content.decode())
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Where the data lives" in client.get("/").content.decode()
