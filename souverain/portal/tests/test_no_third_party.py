"""A sovereignty product loads nothing from a third party: no page, error page or API docs page makes the browser
fetch a script, a style sheet, a font, an image or a frame from another host (issue 10, item 16).

Links a user may follow (``<a href>``: a law's source on EUR-Lex) are references, not loads, and are allowed.
The browser test (``tests/browser/test_hardening.py``) checks the same on the wire, with Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from .conftest import ON

pytestmark = pytest.mark.django_db
DAY = ON.isoformat()

# An absolute or protocol-relative URL in an attribute that makes the browser fetch something, or in CSS.
TAG = re.compile(r"<(?!a[\s>])(\w+)\b[^>]*>", re.S)
LOADING_ATTRIBUTE = re.compile(
    r"""\b(?:src|href|srcset|data|poster|action|formaction)\s*=\s*["']\s*((?:https?:)?//[^"'\s]+)""", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])\s*((?:https?:)?//[^"')\s]+)""", re.I)
SCRIPT_URL = re.compile(r"""["']((?:https?:)?//[^"'\s]+)["']""")


def third_party_loads(html: str) -> list[str]:
    found = []
    for tag in TAG.finditer(html):
        found += [m.group(1) for m in LOADING_ATTRIBUTE.finditer(tag.group(0))]
    found += [m.group(1) for m in CSS_URL.finditer(html)]
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S):
        found += [m.group(1) for m in SCRIPT_URL.finditer(script)]
    return [url for url in found if not re.match(r"(https?:)?//(testserver|127\.0\.0\.1|localhost)(:\d+)?/", url)]


def portal_urls() -> list[str]:
    from souverain.estate.models import Region
    from souverain.inventory.models import Resource

    region = Region.objects.get(cloud__slug="international", slug="eu-west-1")
    resource_id = Resource.objects.values_list("pk", flat=True).first()
    return ["/", "/?view=world", "/clouds/international/", f"/regions/{region.pk}/?on={DAY}", "/inventory/",
            f"/inventory/{resource_id}/", "/placement/?run=1&data_classes=health", "/compliance/",
            "/compliance/rules/hds/", "/compliance/upload/", "/sync/", "/api/docs/", "/password/",
            "/no-such-page/", "/inventory/999999999/"]


def test_the_detector_finds_what_a_cdn_page_loads() -> None:
    cdn = ('<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@latest/swagger-ui.css">'
           '<script src="//unpkg.com/htmx.org"></script><a href="https://eur-lex.europa.eu/">source</a>'
           '<style>@font-face { src: url(https://fonts.gstatic.com/x.woff2) }</style>'
           '<script>const ui = SwaggerUIBundle({url: "https://validator.swagger.io/validator"})</script>'
           '<img src="/static/portal/x.png">')
    assert third_party_loads(cdn) == ["https://cdn.jsdelivr.net/npm/swagger-ui-dist@latest/swagger-ui.css",
                                      "//unpkg.com/htmx.org", "https://fonts.gstatic.com/x.woff2",
                                      "https://validator.swagger.io/validator"]


@pytest.mark.parametrize("username", ["operator-admin", "tenant-member"])
def test_no_page_nor_the_api_docs_loads_anything_from_another_host(login: Any, evaluated: Any, username: str) -> None:
    client = login(username)
    for url in portal_urls():
        response = client.get(url)
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        page = response.content.decode()
        assert not third_party_loads(page), f"{url} loads {third_party_loads(page)}"


def test_the_api_docs_come_from_the_package_and_swagger_ui_calls_no_validator(login: Any, evaluated: Any) -> None:
    page = login("auditor").get("/api/docs/").content.decode()
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        src = re.search(rf'"(/static/[^"]*{re.escape(name)})"', page)
        assert src, f"{name} not served from our static files"
        path = src.group(1).removeprefix("/" + settings.STATIC_URL.strip("/") + "/")
        assert finders.find(path), f"{path} is not in an installed package"
    # Swagger UI sends the schema to validator.swagger.io unless told not to. Its set-up is a script of its own
    # (no inline script under the Content-Security-Policy).
    setup = re.search(r'<script src="(/api/docs/\?[^"]*script=[^"]*)"', page)
    assert setup and "<script>" not in page
    script = login("auditor").get(setup.group(1).replace("&amp;", "&")).content.decode()
    assert '"validatorUrl": null' in script


def test_the_portal_style_sheet_loads_nothing_from_another_host() -> None:
    css = Path(finders.find("portal/souverain.css")).read_text(encoding="utf-8")
    assert not CSS_URL.findall(css)
