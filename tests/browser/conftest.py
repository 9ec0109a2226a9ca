"""Browser tests of the portal: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Every page a test opens is watched: a JavaScript console error, an uncaught exception or an HTTP error (≥ 400) of
any request the page makes fails the test. Each step saves a screenshot under ``test-artifacts/`` (gitignored) for
the CI log. Playwright never downloads a browser here: ``/usr/bin/chromium`` comes from Debian's ``chromium``
package (``scripts/ensure-system-packages.sh``); without it the tests fail rather than skip.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ON = dt.date(2026, 11, 25)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser(django_db_setup: None, live_server: Any) -> Iterator[Any]:
    """One Chromium per test module. While Playwright runs, its event loop is current in this thread: the test
    database and the live server are set up before it starts, and it stops before other modules' tests run."""
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/ensure-system-packages.sh)")
    # Playwright's sync API keeps an event loop current in this thread, which Django's ORM takes for an async
    # context; the tests' own ORM calls (fixtures, checks, the database flush between tests) are synchronous.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Watched:
    """A page whose console errors and failed requests are collected, with a screenshot helper."""

    page: Any
    base: str
    name: str
    problems: list[str] = field(default_factory=list)
    allowed: set[str] = field(default_factory=set)  # URL substrings whose HTTP errors a test expects
    shots: int = 0

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def shot(self, label: str) -> Path:
        self.shots += 1
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def login(self, username: str, password: str) -> None:
        self.go("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        with self.page.expect_navigation():
            self.page.click("main form button[type=submit]")
        assert "/login/" not in self.page.url, f"login as {username} failed"


@pytest.fixture
def watch(browser: Any, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``watch(width=1280)`` → a Watched page in a fresh browser context (its own cookies)."""
    opened: list[tuple[Any, Watched]] = []

    def open_page(width: int = 1280, height: int = 900, suffix: str = "") -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        page = context.new_page()
        name = re.sub(r"\W+", "-", request.node.name).strip("-") + suffix
        watched = Watched(page, live_server.url, name)

        def on_console(message: Any) -> None:
            # Chromium also logs an expected error status (a test opening a 404 page) as a console error.
            expected = message.text.startswith("Failed to load resource") and any(
                a in page.url for a in watched.allowed)
            if message.type == "error" and not expected:
                watched.problems.append(f"console error on {page.url}: {message.text}")

        def on_response(response: Any) -> None:
            if response.status >= 400 and not any(a in response.url for a in watched.allowed):
                watched.problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: watched.problems.append(f"uncaught exception on {page.url}: {error}"))
        def on_request_failed(request: Any) -> None:
            # net::ERR_ABORTED: the page moved on before a request it started ended (an HTMX panel still loading
            # when the test opens the next page); refused, blocked or unreachable requests fail otherwise.
            if request.failure != "net::ERR_ABORTED":
                watched.problems.append(f"request failed: {request.url} {request.failure}")

        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)
        opened.append((context, watched))
        return watched

    yield open_page
    problems = [p for _, watched in opened for p in watched.problems]
    for context, _ in opened:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def portal_world(example_estate: None, role_users: dict[str, Any], tenants: dict[str, Any]) -> dict[str, Any]:
    """The example estate, one user per role, inventory rows of both tenants, one compliance pass, and the
    other tenant's data declared as health data (so both tenants have violations)."""
    from souverain.policy.compliance import evaluate
    from souverain.portal.tests.factories import bulk_resources

    tenants["foreign"].default_data_classes = ["health", "personal"]
    tenants["foreign"].save()
    bulk_resources(210, tenants=[tenants["home"], tenants["foreign"], None])
    evaluate(on=ON)
    return {"tenants": tenants, "users": role_users}
