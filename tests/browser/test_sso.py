"""Single sign-on in Chromium against a real OpenID provider on loopback (testbed/oidc/provider.mjs).

Alice's ``groups`` claim maps her to the home tenant as tenant admin: she signs in through the provider's own
login form, lands in the portal with that role, sees her tenant's resources and none of the other's, and her
logout goes through the provider's end-session endpoint back to the login page. Mallory's claims map to nothing:
the refusal page says so (in English, then in French), and no user is created. Logins and logouts are audit
records. The API accepts alice's provider access token (signature against the provider's JWKS).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from souverain.sso.tests.provider import running_provider, sso_settings


@pytest.fixture(scope="module")
def provider(live_server: Any) -> Iterator[str]:
    with running_provider([f"{live_server.url}/sso/callback/"], [f"{live_server.url}/login/"]) as issuer:
        yield issuer


@pytest.fixture
def sso(provider: str, settings: Any) -> str:
    for name, value in sso_settings(provider).items():
        setattr(settings, name, value)
    return provider


def offline_provider_pages(ui: Any) -> Any:
    """oidc-provider's development login page links a Google font and the provider has no favicon: the test
    machine is offline, so answer those requests here rather than count them as the portal's errors."""
    ui.page.route("https://fonts.googleapis.com/**", lambda route: route.fulfill(status=200, body="",
                                                                                 content_type="text/css"))
    ui.page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    return ui


def sign_in_at_provider(page: Any, login: str) -> None:
    """The provider's own login form (oidc-provider's devInteractions: any password)."""
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any-password")
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_sso_login_lands_as_the_mapped_tenant_role_and_sees_only_its_tenant(watch: Any, sso: str,
                                                                            portal_world: dict[str, Any]) -> None:
    from souverain.audit.models import AuditRecord
    from souverain.inventory.models import Resource
    from souverain.tenancy.models import Membership

    ui = offline_provider_pages(watch())
    page = ui.page
    ui.go("/login/")
    button = page.locator("a.sso-login")
    assert button.inner_text() == "Sign in with Loopback OP"
    ui.shot("login")
    with page.expect_navigation():
        button.click()
    assert page.url.startswith(sso)
    ui.shot("provider")
    sign_in_at_provider(page, "alice")
    assert page.url.startswith(ui.base) and "/login/" not in page.url
    membership = Membership.objects.select_related("user", "tenant").get(user__username="alice@ministere.example")
    assert (membership.role, membership.tenant.slug) == ("tenant-admin", "ministere")
    assert "alice@ministere.example" in page.locator("header .who").inner_text()
    ui.shot("landed")

    ui.go("/inventory/")
    own = Resource.objects.filter(tenant=portal_world["tenants"]["home"], gone_at__isnull=True).count()
    assert own and f"of {own}" in page.locator("nav .pagination").inner_text()
    shown = set(page.locator("table.resources td.name a").all_inner_texts())
    foreign = set(Resource.objects.filter(tenant=portal_world["tenants"]["foreign"]).values_list("name", flat=True))
    assert shown and not shown & foreign
    assert "Other Corp" not in page.inner_text("main")
    ui.shot("inventory")

    # Logout: local session ended, then the provider's end-session endpoint, back to the login page.
    page.click("header form.who button[type=submit]")
    page.wait_for_url(f"{sso}/session/end**")  # the provider's "sign out?" form
    with page.expect_navigation():
        page.click("button[value=yes]")
    page.wait_for_url(f"{ui.base}/login/**")
    assert page.locator("a.sso-login").count() == 1 and "alice" not in page.locator("header").inner_text()
    ui.shot("logged-out")
    actions = list(AuditRecord.objects.filter(username="alice@ministere.example").values_list("action", flat=True))
    assert "auth.login" in actions and "auth.logout" in actions and "sso.membership" in actions


@pytest.mark.parametrize("language,title,says", [
    ("en", "Access refused", "nothing in your account gives you a role in Souverain"),
    ("fr", "Accès refusé", "rien dans votre compte ne vous donne de rôle dans Souverain"),
])
def test_sso_user_mapped_to_nothing_is_refused_with_a_clear_page(watch: Any, sso: str, portal_world: dict[str, Any],
                                                                  language: str, title: str, says: str) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from souverain.audit.models import AuditRecord

    ui = offline_provider_pages(watch())
    ui.page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": ui.base}])
    ui.allowed.add("/sso/callback/")  # the refusal page is a 403
    users_before = get_user_model().objects.count()
    ui.go("/sso/login/")
    sign_in_at_provider(ui.page, "mallory")
    assert "/sso/callback/" in ui.page.url
    assert ui.page.locator("main h1").inner_text() == title
    assert says in ui.page.inner_text("main") and "mallory@elsewhere.example" in ui.page.inner_text("main")
    ui.shot("refused")
    assert get_user_model().objects.count() == users_before
    refusal = AuditRecord.objects.filter(action="auth.sso_refused").latest("pk")
    assert refusal.data_json["reason"] == "no_rule" and refusal.data_json["email"] == "mallory@elsewhere.example"
