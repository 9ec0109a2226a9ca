"""The API with the provider's access tokens (a real provider on loopback), and the mapping rules' validation.

The token is obtained as a client would: the authorization code flow with PKCE through the provider's login
form (headless, with requests), then the code exchanged at the token endpoint. It is a JWT for the audience
``urn:souverain:api`` signed with the provider's key; the API checks it against the provider's JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured

from souverain.sso import config
from souverain.sso.tests.provider import CLIENT_ID, CLIENT_SECRET, running_provider, sso_settings

REDIRECT_URI = "http://127.0.0.1:9/sso/callback/"  # never reached: the code is read from the redirect


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with running_provider([REDIRECT_URI], ["http://127.0.0.1:9/login/"]) as issuer:
        yield issuer


@pytest.fixture
def sso(provider: str, settings: Any) -> str:
    for name, value in sso_settings(provider).items():
        setattr(settings, name, value)
    return provider


def provider_tokens(issuer: str, login: str) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    session = requests.Session()

    def follow(response: requests.Response) -> Any:
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(REDIRECT_URI):
                return location
            response = session.get(location, allow_redirects=False, timeout=10)
        return response

    form = follow(session.get(f"{issuer}/auth", allow_redirects=False, timeout=10, params={
        "client_id": CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile groups", "state": "s", "nonce": "n",
        "code_challenge_method": "S256", "code_challenge": challenge}))
    action = re.search(r'<form[^>]*action="([^"]+)"', form.text).group(1)
    callback = follow(session.post(urljoin(form.url, action), allow_redirects=False, timeout=10,
                                   data={"prompt": "login", "login": login, "password": "x"}))
    code = parse_qs(urlparse(callback).query)["code"][0]
    answer = requests.post(f"{issuer}/token", timeout=10, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    answer.raise_for_status()
    return answer.json()


def claims_of(jwt_token: str) -> dict[str, Any]:
    payload = jwt_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.django_db
def test_api_accepts_the_providers_access_token_as_the_mapped_tenant_role(sso: str, client: Any,
                                                                         tenants: dict[str, Any]) -> None:
    from souverain.audit.models import AuditRecord
    from souverain.tenancy.models import Membership

    access = provider_tokens(sso, "alice")["access_token"]
    assert claims_of(access)["aud"] == "urn:souverain:api" and claims_of(access)["iss"] == sso
    answer = client.get("/api/tenants/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert answer.status_code == 200, answer.content
    slugs = {row["slug"] for row in answer.json()["results"]}
    assert "ministere" in slugs and "other-corp" not in slugs
    membership = Membership.objects.select_related("tenant").get(user__username="alice@ministere.example")
    assert (membership.role, membership.tenant.slug) == ("tenant-admin", "ministere")
    assert AuditRecord.objects.filter(action="sso.membership", username="alice@ministere.example").exists()

    # One character of the signature changed: refused (the signature is checked against the provider's JWKS).
    head, body, signature = access.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    assert client.get("/api/tenants/", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


@pytest.mark.django_db
def test_api_refuses_a_token_for_another_audience_or_issuer(sso: str, client: Any, settings: Any,
                                                           tenants: dict[str, Any]) -> None:
    access = provider_tokens(sso, "alice")["access_token"]
    settings.SOUVERAIN_OIDC_API_AUDIENCE = "urn:someone-else"
    answer = client.get("/api/tenants/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert answer.status_code == 401 and "aud" in answer.json()["detail"]
    settings.SOUVERAIN_OIDC_API_AUDIENCE = "urn:souverain:api"
    id_token = provider_tokens(sso, "alice")["id_token"]  # audience: the client id, not the API
    assert client.get("/api/tenants/", HTTP_AUTHORIZATION=f"Bearer {id_token}").status_code == 401


@pytest.mark.django_db
def test_api_refuses_a_provider_user_mapped_to_nothing_and_creates_nobody(sso: str, client: Any,
                                                                         tenants: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model

    before = get_user_model().objects.count()
    access = provider_tokens(sso, "mallory")["access_token"]
    answer = client.get("/api/tenants/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert answer.status_code == 403 and "maps to no tenant" in answer.json()["detail"]
    assert get_user_model().objects.count() == before


@pytest.mark.parametrize("rules,message", [
    ([{"claim": "groups", "value": "x", "role": "chief"}], "role must be one of"),
    ([{"claim": "groups", "value": "x", "role": "tenant-admin"}], "tenant is required"),
    ([{"claim": "groups", "value": "x", "role": "auditor", "tenant": "t"}], "only for them"),
    ([{"email_domain": "a.example", "claim": "groups", "value": "x", "role": "auditor"}], "either claim"),
    ([{"claim": "groups", "role": "auditor"}], "claim and value"),
    ([{"claim": "groups", "value": "x", "role": "auditor", "colour": "red"}], "unknown field(s) colour"),
    ("rules", "expected a list"),
])
def test_bad_mapping_rules_stop_the_start_naming_the_rule(rules: Any, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(message)):
        config.parse_rules(rules)


def test_rules_first_match_wins_and_email_domains_need_a_verified_email() -> None:
    rules = config.parse_rules({"rules": [
        {"claim": "groups", "value": "hopital:admins", "tenant": "hopital", "role": "tenant-admin"},
        {"email_domain": "Hopital.example", "tenant": "hopital", "role": "tenant-member"},
    ]})
    both = {"groups": ["hopital:admins"], "email": "a@hopital.example", "email_verified": True}
    assert next(r for r in rules if r.matches(both)).role == "tenant-admin"
    member = {"groups": "visitors", "email": "b@hopital.example", "email_verified": True}
    assert [r.role for r in rules if r.matches(member)] == ["tenant-member"]
    assert not [r for r in rules if r.matches({**member, "email_verified": False})]
