"""Generated requests over the whole API (schemathesis): no 5xx, and every answer conforms to the schema.

Issue 10 item 10. As operator-admin (who may call everything) with the example estate loaded, every operation of
the served schema gets ``FUZZ_EXAMPLES`` requests that the schema calls valid, then ``FUZZ_NEGATIVE_EXAMPLES``
that it calls invalid. Checks: no server error; the status code, content type and body of each answer are
those the schema documents (``core/api/schema.py``). Bounded and reproducible: a fixed seed (hypothesis
``derandomize``), no example database, no shrinking; a few minutes on a loaded 2-core machine
(``SOUVERAIN_FUZZ_EXAMPLES`` raises the count for a longer run). Operations run in schema order in one
transaction, so writes of one (creations, deletions) are what the next ones see, and everything is rolled
back at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

FUZZ_EXAMPLES = int(os.environ.get("SOUVERAIN_FUZZ_EXAMPLES", "6"))
FUZZ_NEGATIVE_EXAMPLES = max(1, FUZZ_EXAMPLES // 2)

# Operations whose answer is not JSON by design, or that would start work outside the request.
SKIPPED = {
    "GET /api/docs/",  # Swagger UI, HTML
    "DELETE /api/tokens/{id}/",  # would revoke the token the run itself uses (test_tokens.py covers it)
}


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _run_operation(operation: Any, mode: Any, examples: int, headers: dict[str, str], checks: list[Any]) -> None:
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks)

    run()


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The project's WSGI application, on the test's database connection.

    As Django's test client does: the request signals must not close the connection (on PostgreSQL that would
    end the test's transaction and the example estate with it)."""
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.django_db(transaction=False)
def test_generated_requests_get_no_server_error_and_answers_that_match_the_schema(example_estate, role_users,
                                                                                    wsgi_app):
    from schemathesis import GenerationMode

    from souverain.core import tokens

    # Jobs the fuzzer creates are handed to workers on commit, which never comes: nothing runs outside the test.
    headers = {"Authorization": f"Token {tokens.issue(role_users['operator-admin'])[1]}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=headers)
    checks = _checks()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if f"{operation.method.upper()} {operation.path}" in SKIPPED:
            continue
        operations += 1
        for mode, examples in ((GenerationMode.POSITIVE, FUZZ_EXAMPLES),
                               (GenerationMode.NEGATIVE, FUZZ_NEGATIVE_EXAMPLES)):
            try:
                _run_operation(operation, mode, examples, headers, checks)
            except Unsatisfiable:
                continue  # no input violates this operation's schema (no parameters, or free-form strings only)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — report every operation's failures
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert operations > 40, "the schema lost operations"
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)
