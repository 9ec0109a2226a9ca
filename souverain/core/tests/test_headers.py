"""Issue 13 item 7, headers: no Content-Security-Policy, no HSTS nor Secure cookies over TLS, and Django's
development server naming the Python version. Each test here failed against that."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.test import Client

from souverain.core.middleware import SecurityHeadersMiddleware

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_scripts_and_the_other_headers(role_users):
    client = Client()
    client.force_login(role_users["auditor"])
    for url in ("/login/", "/history/", "/tokens/", "/password/"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        page = response.content.decode()
        # Every script is a file of ours; no inline handler nor style that the policy would block.
        assert all(re.search(r'\bsrc="/static/', tag) for tag in re.findall(r"<script[^>]*>", page)), url
        assert not re.search(r"\son[a-z]+=", page) and "style=" not in page and "<style" not in page
    docs = client.get("/api/docs/")
    assert "<script>" not in docs.content.decode()  # Swagger UI's set-up is a script file of its own (?script)


def test_no_template_has_an_inline_script_or_style():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert "<style" not in text and " style=" not in text, template


def test_tls_settings_come_from_the_environment():
    code = ("import django, json; django.setup(); from django.conf import settings as s; print(json.dumps("
            "[s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
            "list(getattr(s, 'SECURE_PROXY_SSL_HEADER', None) or [])]))")
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "souverain.project.settings"}
    base.pop("SOUVERAIN_TLS", None)
    plain = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True, check=True)
    assert json.loads(plain.stdout) == [False, False, 0, False, []]
    tls = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**base, "SOUVERAIN_TLS": "1", "SOUVERAIN_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"})
    assert json.loads(tls.stdout) == [True, True, 31536000, True, ["HTTP_X_FORWARDED_PROTO", "https"]]


@pytest.mark.django_db
def test_over_tls_the_answers_carry_hsts_and_secure_cookies(settings, role_users):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    response = client.post("/login/", {"username": "auditor", "password": "pw-auditor"}, secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["sessionid"]["secure"] is True


def test_the_development_server_does_not_name_python():
    """Django's runserver (wsgiref) sends "Server: WSGIServer/0.2 CPython/3.11" unless the answer has its own."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer

    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = requests.get(f"http://127.0.0.1:{server.server_address[1]}/healthz", timeout=30)
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200
    assert "python" not in response.headers.get("Server", "").lower()
    assert response.headers["Content-Security-Policy"] == SecurityHeadersMiddleware.CSP
