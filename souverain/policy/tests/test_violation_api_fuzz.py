"""The whole-API fuzz test (``core/tests/test_fuzz_api.py``) for the violations routes alone, over a database
where a compliance pass has opened violations: their answers (read through ``Violation.denial``) match the
schema. Minutes cheaper than the whole run when only these routes changed."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis.errors import Unsatisfiable

from souverain.core.tests.test_fuzz_api import (
    FUZZ_EXAMPLES,
    FUZZ_NEGATIVE_EXAMPLES,
    _checks,
    _run_operation,
    wsgi_app,  # noqa: F401 — the fixture
)
from souverain.policy.compliance import evaluate
from souverain.policy.tests.test_violation_api_shape import _resource


@pytest.mark.django_db(transaction=False)
def test_violation_routes_answer_as_their_schema_says(example_estate, tenants, role_users, wsgi_app):  # noqa: F811
    from schemathesis import GenerationMode

    from souverain.core import tokens

    _resource("international/eu-west-1", "fuzzed", tenant=tenants["home"])
    assert evaluate(on=dt.date(2026, 11, 25)).opened > 0
    headers = {"Authorization": f"Token {tokens.issue(role_users['operator-admin'])[1]}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=headers)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/compliance/violations"):
            continue
        operations += 1
        for mode, examples in ((GenerationMode.POSITIVE, FUZZ_EXAMPLES),
                               (GenerationMode.NEGATIVE, FUZZ_NEGATIVE_EXAMPLES)):
            try:
                _run_operation(operation, mode, examples, headers, _checks())
            except Unsatisfiable:
                continue
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — report every operation's failures
                failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    assert operations >= 3, "the violations routes are in the schema"
    assert not failures, "\n\n".join(failures)
