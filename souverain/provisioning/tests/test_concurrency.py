"""Concurrent requests against one quota on PostgreSQL: the gate locks the tenant chain, so none exceeds it.

(Today the audit recorder's chain lock, taken by the gate's first timeline event, serialises gates as well: the
outcome is asserted here, whichever lock provides it.)"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from souverain.provisioning import quotas, services
from souverain.provisioning.models import Quota, ServiceRequest

from .conftest import SERVER_SPEC, SOVEREIGN

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="row locks: SQLite serialises writers on its own (and fails them as locked)")


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_of_sibling_nodes_never_exceed_the_parents_quota(world, monkeypatch):
    Quota.objects.create(tenant=world["home"], instances=3)
    real_shortfalls = quotas.shortfalls

    def slow_shortfalls(*args, **kwargs):
        found = real_shortfalls(*args, **kwargs)
        time.sleep(0.3)  # widen the window between the check and the commit: without the lock, all would pass
        return found

    monkeypatch.setattr(quotas, "shortfalls", slow_shortfalls)
    users = world["users"]
    outcomes: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def ask(index: int) -> None:
        try:
            start.wait()
            username, tenant = (("a-member", world["child"]) if index % 2 else ("b-admin", world["sibling"]))
            request, _created = services.submit(tenant=tenant, user=users[username], kind="server",
                                                name=f"web-{index}", spec=dict(SERVER_SPEC), region=SOVEREIGN)
            outcomes.append(request.status)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(outcomes) == ["approved"] * 3 + ["refused"] * 5
    assert ServiceRequest.objects.filter(status="approved").count() == 3
