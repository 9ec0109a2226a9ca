"""The capacity.sync job: a snapshot per region (failed and unsupported ones kept with why), queued after every
inventory sync that reached a cloud, and on its schedule without piling up."""

from __future__ import annotations

from typing import Any

import pytest

from souverain.capacity import services
from souverain.capacity.models import CapacityFigure, CapacitySnapshot
from souverain.connectors import NotSupported, Unavailable
from souverain.inventory import services as inventory
from souverain.inventory.tests.factories import make_cloud, write_clouds_yaml
from souverain.jobs import services as jobs
from souverain.jobs.models import Job

from .factories import capacity_report, provider

pytestmark = pytest.mark.django_db


class Measured:
    """A connector that only reports capacity (what the capacity sync uses of one), or fails to."""

    def __init__(self, report: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.report, self.error = report, error

    def capacity(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return self.report or {}


@pytest.fixture
def clouds(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds_yaml(tmp_path, "alpha", "beta")))
    alpha, beta = make_cloud("alpha", regions=("r1", "r2")), make_cloud("beta", regions=("b1",))
    connectors = {
        ("alpha", "r1"): Measured(capacity_report(provider("n1", zone="az1", vcpu=8, used=(2, 0, 0)))),
        ("alpha", "r2"): Measured(error=Unavailable("placement down", cloud="alpha", region="r2")),
        ("beta", "b1"): Measured(error=NotSupported("no placement", cloud="beta", region="b1")),
    }
    monkeypatch.setattr(inventory, "connector_for", lambda cloud, region: connectors[(cloud.slug, region.slug)])
    for cloud in (alpha, beta):
        for region in cloud.regions.all():
            inventory.forget_connector(cloud, region)
    return {"alpha": alpha, "beta": beta, "connectors": connectors}


def test_a_sync_measures_every_region_and_keeps_failures_with_why(clouds: dict[str, Any]) -> None:
    done = jobs.run_job(services.request_sync(requested_by="ops").pk)
    assert done.status == "partial"  # one region failed, the others were measured or said they cannot be
    statuses = {s.region.key: (s.status, s.error) for s in CapacitySnapshot.objects.select_related("region__cloud")}
    assert statuses["alpha/r1"] == ("ok", "")
    assert statuses["alpha/r2"][0] == "failed" and "placement down" in statuses["alpha/r2"][1]
    assert statuses["beta/b1"][0] == "unsupported"
    assert [e["region"] for e in done.errors] == ["r2"]
    vcpu = CapacityFigure.objects.get(region__slug="r1", zone="", resource_class="VCPU")
    assert (vcpu.allocatable, vcpu.used, vcpu.free) == (8, 2, 6)
    assert CapacityFigure.objects.filter(region__slug="r1", zone="az1").count() == 3
    # Measured again: a second snapshot, the first kept as history.
    jobs.run_job(services.request_sync(["alpha"]).pk)
    assert CapacitySnapshot.objects.filter(region__slug="r1", status="ok").count() == 2
    assert services.latest_snapshots()["alpha/r1"].taken_at == CapacitySnapshot.objects.filter(
        region__slug="r1").latest("taken_at").taken_at


def test_every_region_failing_fails_the_job(clouds: dict[str, Any]) -> None:
    clouds["connectors"][("alpha", "r1")].error = Unavailable("down", cloud="alpha", region="r1")
    assert jobs.run_job(services.request_sync(["alpha"]).pk).status == "failed"


def test_an_inventory_sync_that_reached_a_cloud_queues_its_capacity_sync_once(clouds: dict[str, Any]) -> None:
    parts = {"alpha/r1": {"state": "done"}, "beta/b1": {"state": "failed"}}
    sync = Job.objects.create(kind="inventory.sync", params={"clouds": [], "full": False, "kinds": []},
                              status="succeeded", detail=parts)
    queued = services.after_inventory_sync(sync)
    assert queued is not None and queued.params == {"clouds": ["alpha"], "trigger": "inventory"}
    assert services.after_inventory_sync(sync) is None  # already waiting
    nothing = Job.objects.create(kind="inventory.sync", params={}, status="succeeded", detail={})
    assert services.after_inventory_sync(nothing) is None  # reached no cloud
    failed = Job.objects.create(kind="inventory.sync", params={}, status="failed", detail={"beta/b1": {"state": "x"}})
    assert services.after_inventory_sync(failed) is None


def test_the_schedule_does_not_pile_up(clouds: dict[str, Any]) -> None:
    first = services.schedule_syncs()
    assert first is not None and first.params["trigger"] == "schedule"
    assert services.schedule_syncs() is None


def test_bad_parameters_name_the_field() -> None:
    with pytest.raises(ValueError, match="clouds"):
        jobs.create_job("capacity.sync", {"clouds": [3]})
    with pytest.raises(ValueError, match="unknown parameter"):
        jobs.create_job("capacity.sync", {"full": True})


def test_the_end_of_an_inventory_sync_job_queues_the_capacity_sync(clouds: dict[str, Any], monkeypatch: Any,
                                                                   settings: Any) -> None:
    from souverain.inventory.tests.factories import FakeConnector

    settings.SOUVERAIN_SYNC_KIND_THREADS = 1  # this test's transaction is not visible to other threads
    monkeypatch.setattr(inventory, "connector_for", lambda cloud, region: FakeConnector({"servers": []}))
    done = jobs.run_job(inventory.request_sync(["alpha"], kinds=["server"]).pk)
    assert done.status == "succeeded"
    [queued] = Job.objects.filter(kind="capacity.sync")
    assert queued.params == {"clouds": ["alpha"], "trigger": "inventory"}
    assert queued.requested_by == f"inventory sync #{done.pk}"
