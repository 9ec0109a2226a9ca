"""Error pages in the portal's style and both languages; the password-change page; ``?next=`` after a failed
login (issue 10, item 16)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import path

from souverain.project import urls as project_urls

pytestmark = pytest.mark.django_db


def boom(request: Any) -> Any:
    raise RuntimeError("a bug <script>alert(1)</script>")


# A URL conf with a failing view, for the 500 page (handlers are read from the root URL conf).
urlpatterns = [path("boom/", boom), path("api/boom/", boom), *project_urls.urlpatterns]
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def french(client: Client) -> Client:
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    return client


def test_404_is_a_portal_page_in_english_and_french(login: Any, example_estate: None) -> None:
    client = login("tenant-member")
    response = client.get("/no-such-page/")
    page = text(response)
    assert response.status_code == 404 and 'data-status="404"' in page
    assert "Page not found" in page and "<code>/no-such-page/</code>" in page
    assert 'href="/inventory/"' in page  # the base page's navigation: the user is signed in
    assert client.get("/regions/999999/").status_code == 404
    assert "Page introuvable" in text(french(client).get("/no-such-page/"))
    # Anonymous visitors, in the language their browser asks for.
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="fr")
    assert "Page introuvable" in text(anonymous.get("/nowhere/"))


def test_403_is_a_portal_page_in_english_and_french(login: Any, example_estate: None) -> None:
    client = login("tenant-admin")
    response = client.get("/sync/")
    page = text(response)
    assert response.status_code == 403 and 'data-status="403"' in page and "Access refused" in page
    assert "Accès refusé" in text(french(client).get("/sync/"))


def test_500_is_styled_translated_and_needs_no_database(settings: Any, django_assert_num_queries: Any,
                                                         example_estate: None) -> None:
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/boom/")
    page = text(response)
    assert response.status_code == 500 and 'data-status="500"' in page and "Server error" in page
    assert "/static/portal/souverain.css" in page and "alert(1)" not in page
    fr = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Erreur du serveur" in text(fr.get("/boom/"))


def test_the_api_keeps_answering_json(settings: Any, api_as: Any, example_estate: None) -> None:
    response = api_as("auditor").get("/api/no-such-route/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    settings.ROOT_URLCONF = __name__
    failing = Client(raise_request_exception=False).get("/api/boom/")
    assert failing.status_code == 500 and failing["Content-Type"] == "application/json"
    assert "log" in failing.json()["detail"] and "script" not in failing.content.decode()


def test_failed_login_keeps_next(client: Client, role_users: Any) -> None:
    target = "/inventory/?kind=server"
    first = client.get("/inventory/?kind=server")
    assert first.status_code == 302
    login_url = first["Location"]
    failed = client.post(login_url, {"username": "tenant-member", "password": "wrong", "next": target})
    page = failed.content.decode()
    assert failed.status_code == 200 and "Wrong username or password" in page
    action = re.search(r'<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="csrfmiddlewaretoken"'
                       r'[^>]*>\s*<div class="field">', page)
    assert action and action.group(1) == "/login/?next=/inventory/%3Fkind%3Dserver", action
    # The form's address keeps it, so posting it again (or reloading, or switching language) lands on the target.
    done = client.post(action.group(1).replace("&amp;", "&"), {"username": "tenant-member",
                                                               "password": "pw-tenant-member"})
    assert done.status_code == 302 and done["Location"] == target


def test_failed_login_never_keeps_a_foreign_next(client: Client, role_users: Any) -> None:
    failed = client.post("/login/", {"username": "tenant-member", "password": "wrong",
                                     "next": "https://evil.example/"})
    assert "evil.example" not in failed.content.decode()


@pytest.mark.parametrize("username", ["operator-admin", "auditor", "tenant-member"])
def test_every_role_changes_its_own_password(login: Any, username: str) -> None:
    client = login(username)
    page = text(client.get("/"))
    assert 'href="/password/"' in page  # in the header, on every page
    form = text(client.get("/password/"))
    assert "Change your password" in form and 'name="old_password"' in form
    wrong = client.post("/password/", {"old_password": "nope", "new_password1": "A-much-longer-one-42",
                                       "new_password2": "A-much-longer-one-42"})
    assert wrong.status_code == 200 and "incorrect" in text(wrong)
    short = client.post("/password/", {"old_password": f"pw-{username}", "new_password1": "abc",
                                       "new_password2": "abc"})
    assert short.status_code == 200 and "too short" in text(short)
    user = get_user_model().objects.get(username=username)
    assert user.check_password(f"pw-{username}")
    done = client.post("/password/", {"old_password": f"pw-{username}", "new_password1": "A-much-longer-one-42",
                                      "new_password2": "A-much-longer-one-42"}, follow=True)
    assert done.status_code == 200 and "Your password has been changed" in text(done)
    user.refresh_from_db()
    assert user.check_password("A-much-longer-one-42")
    assert client.get("/inventory/").status_code == 200  # still signed in


def test_password_page_in_french_and_anonymous_goes_to_login(login: Any, client: Client) -> None:
    assert client.get("/password/")["Location"].startswith("/login/?next=/password/")
    page = text(french(login("tenant-admin")).get("/password/"))
    assert "Changer votre mot de passe" in page and "Ancien mot de passe" in page
