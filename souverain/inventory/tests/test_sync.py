"""The sync engine against a fake connector and the real database: diffing, bulk writes, history, failures."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from souverain.connectors import NotSupported, Unavailable

from ..models import ProjectMapping, Resource, ResourceChange, SyncState
from ..services import SINCE_MARGIN, SyncRun, attribute_changes, digest, last_seen, listing_times
from ..signals import inventory_changed
from .factories import FakeConnector, make_cloud, write_clouds_yaml

KINDS = ["server", "volume", "network", "flavor"]


def servers(n: int, project: str = "p1", **extra: Any) -> list[dict[str, Any]]:
    return [{"id": f"s{i}", "name": f"vm-{i}", "status": "ACTIVE", "tenant_id": project, "tags": [], **extra}
            for i in range(n)]


def sync(cloud: Any, fake: FakeConnector, *, full: bool = True, kinds: list[str] | None = None,
         **kwargs: Any) -> SyncRun:
    run = SyncRun(job_id=None, reporter=None, full=full, kinds=kinds or KINDS,
                  connector_factory=lambda c, r: fake, cloud_threads=1, kind_threads=1, **kwargs)
    run.run([cloud])
    return run


def present(kind: str = "server") -> set[str]:
    return set(Resource.objects.filter(kind=kind, gone_at__isnull=True).values_list("external_id", flat=True))


@pytest.fixture
def clouds_yaml(tmp_path, monkeypatch):
    """This process's clouds.yaml names the test clouds: syncs only take clouds whose credentials they find."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(write_clouds_yaml(tmp_path, "alpha", "a", "b", "no-region")))


@pytest.fixture
def cloud(db, clouds_yaml):
    return make_cloud("alpha")


@pytest.mark.django_db
def test_first_sync_discovers_everything_unmanaged_with_tenants_and_history(cloud, tenants):
    ProjectMapping.objects.create(cloud=cloud, project_id="p1", tenant=tenants["home"])
    fake = FakeConnector({
        "servers": servers(5),
        "volumes": [{"id": "v1", "name": "data", "status": "available", "os-vol-tenant-attr:tenant_id": "p2"}],
        "networks": [{"id": "n1", "name": "net", "status": "ACTIVE", "project_id": "p1", "tags": ["b", "a"]}],
        "flavors": [{"id": "f1", "name": "m1.tiny"}],
    })
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    inventory_changed.connect(receiver)
    try:
        run = sync(cloud, fake)
    finally:
        inventory_changed.disconnect(receiver)

    assert run.totals["created"] == 8
    assert Resource.objects.count() == 8
    vm = Resource.objects.get(external_id="s3")
    assert (vm.kind, vm.name, vm.status, vm.project_id, vm.tenant, vm.managed) == (
        "server", "vm-3", "active", "p1", tenants["home"], False)
    assert vm.attrs["name"] == "vm-3" and vm.attrs_hash == digest(vm.attrs)
    volume = Resource.objects.get(kind="volume")
    assert volume.project_id == "p2" and volume.tenant is None
    assert Resource.objects.get(kind="network").tags == ["a", "b"]
    assert ResourceChange.objects.filter(action="created").count() == 8
    assert received and sorted(received[0]["resource_ids"]) == sorted(Resource.objects.values_list("id", flat=True))
    states = {s.kind: s for s in SyncState.objects.filter(cloud=cloud)}
    assert all(s.status == "ok" and s.last_full is not None for s in states.values())
    assert states["server"].resource_count == 5


@pytest.mark.django_db
def test_unchanged_objects_are_not_rewritten_and_changes_record_only_changed_keys(cloud):
    fake = FakeConnector({"servers": servers(4)})
    sync(cloud, fake, kinds=["server"])
    first_seen = dict(Resource.objects.values_list("external_id", "last_seen"))

    fake.data["servers"][1] = {**fake.data["servers"][1], "status": "SHUTOFF", "name": "renamed"}
    run = sync(cloud, fake, kinds=["server"])

    assert (run.totals["updated"], run.totals["unchanged"], run.totals["created"]) == (1, 3, 0)
    change = ResourceChange.objects.get(action="updated")
    assert change.resource.external_id == "s1"
    assert change.changes == {"name": {"before": "vm-1", "after": "renamed"},
                              "status": {"before": "ACTIVE", "after": "SHUTOFF"}}
    assert Resource.objects.get(external_id="s1").status == "shutoff"
    # Only the changed object was written; the others were seen at their kind's listing, recorded once.
    written = {r.external_id for r in Resource.objects.all() if r.last_seen > first_seen[r.external_id]}
    assert written == {"s1"}
    listed = SyncState.objects.get(kind="server").last_success
    times = listing_times()
    assert all(last_seen(r, times) == listed for r in Resource.objects.exclude(external_id="s1"))


@pytest.mark.django_db
def test_sets_listed_in_another_order_are_not_changes_ordered_lists_are(cloud):
    def group(rules: list[str], dns: list[str]) -> dict[str, Any]:
        return {"id": "sg1", "name": "default", "project_id": "p1", "dns": dns,
                "security_group_rules": [{"id": rule, "direction": "ingress"} for rule in rules]}

    fake = FakeConnector({"security_groups": [group(["r1", "r2", "r3"], ["1.1.1.1", "9.9.9.9"])]})
    sync(cloud, fake, kinds=["security_group"])
    fake.data["security_groups"] = [group(["r3", "r1", "r2"], ["1.1.1.1", "9.9.9.9"])]  # as Neutron shuffles them
    assert sync(cloud, fake, kinds=["security_group"]).totals["updated"] == 0

    fake.data["security_groups"] = [group(["r2", "r1"], ["9.9.9.9", "1.1.1.1"])]  # a rule gone; DNS reordered
    assert sync(cloud, fake, kinds=["security_group"]).totals["updated"] == 1
    change = ResourceChange.objects.get(action="updated")
    assert set(change.changes) == {"security_group_rules", "dns"}
    assert [r["id"] for r in change.changes["security_group_rules"]["after"]] == ["r1", "r2"]


@pytest.mark.django_db
def test_full_sync_marks_vanished_objects_gone_and_notices_their_return(cloud):
    fake = FakeConnector({"servers": servers(3)})
    sync(cloud, fake, kinds=["server"])
    vanished = fake.data["servers"].pop(0)

    run = sync(cloud, fake, kinds=["server"])
    assert run.totals["gone"] == 1
    gone = Resource.objects.get(external_id="s0")
    assert gone.gone_at is not None and gone.attrs["name"] == "vm-0"  # kept, not deleted
    assert present() == {"s1", "s2"}

    fake.data["servers"].append(vanished)
    run = sync(cloud, fake, kinds=["server"])
    assert run.totals["reappeared"] == 1 and Resource.objects.get(external_id="s0").gone_at is None
    assert list(ResourceChange.objects.filter(resource__external_id="s0").values_list("action", flat=True)) == [
        "reappeared", "gone", "created"]


@pytest.mark.django_db
def test_incremental_uses_changes_since_catches_nova_deletions_and_reconciles_unfiltered_kinds(cloud):
    fake = FakeConnector({"servers": servers(4), "volumes": [{"id": "v1", "status": "available"},
                                                             {"id": "v2", "status": "available"}],
                          "flavors": [{"id": "f1"}, {"id": "f2"}]})
    sync(cloud, fake, kinds=["server", "volume", "flavor"])
    watermarks = dict(SyncState.objects.filter(cloud=cloud).values_list("kind", "last_success"))
    before = ResourceChange.objects.latest("time").time
    fake.calls.clear()

    fake.changes["servers"] = [{**fake.data["servers"][2], "status": "DELETED"},
                               {**fake.data["servers"][3], "name": "renamed"},
                               {"id": "s-new", "name": "new", "status": "BUILD", "tenant_id": "p1"}]
    fake.changes["volumes"] = []  # v2 was deleted: invisible to Cinder's time filter
    fake.data["volumes"] = fake.data["volumes"][:1]
    fake.data["flavors"] = fake.data["flavors"][:1]
    run = sync(cloud, fake, full=False, kinds=["server", "volume", "flavor"])

    since = dict(fake.calls)
    # Changes since the last listing began, minus the margin for clocks that disagree: no more, no less.
    assert since["servers"] == watermarks["server"] - SINCE_MARGIN
    assert since["volumes"] == watermarks["volume"] - SINCE_MARGIN
    assert since["flavors"] is None
    assert SINCE_MARGIN.total_seconds() == 60  # as docs/inventory.md promises: a margin, and that one
    assert present() == {"s0", "s1", "s3", "s-new"}
    assert Resource.objects.get(external_id="s2").status == "deleted"
    assert present("volume") == {"v1", "v2"}  # caught at the next full sync, not by a time-filtered listing
    assert present("flavor") == {"f1"}  # no time filter: listed whole, so reconciled
    actions = dict(ResourceChange.objects.filter(time__gt=before).values_list("resource__external_id", "action"))
    assert actions == {"s2": "gone", "s3": "updated", "s-new": "created", "f2": "gone"}
    assert run.totals["unchanged"] == 1  # f1, from the flavors listed whole

    sync(cloud, fake, full=True, kinds=["volume"])
    assert present("volume") == {"v1"}


@pytest.mark.django_db
def test_a_refused_time_filter_falls_back_to_a_complete_listing_until_the_next_full_sync(cloud):
    fake = FakeConnector({"networks": [{"id": "n1"}, {"id": "n2"}]}, refuse_since=("networks",))
    sync(cloud, fake, kinds=["network"])
    fake.data["networks"].pop()
    fake.calls.clear()
    run = sync(cloud, fake, full=False, kinds=["network"])
    assert [since is None for _, since in fake.calls] == [False, True]  # refused, then listed whole
    assert run.totals["gone"] == 1 and run.totals["failed_kinds"] == 0
    assert SyncState.objects.get(kind="network").time_filter is False
    fake.calls.clear()
    sync(cloud, fake, full=False, kinds=["network"])
    assert fake.calls == [("networks", None)]  # not asked again...
    sync(cloud, fake, full=True, kinds=["network"])
    assert SyncState.objects.get(kind="network").time_filter is None  # ...until a full sync forgets it


@pytest.mark.django_db
def test_a_failing_kind_is_stale_keeps_its_last_state_and_does_not_stop_the_others(cloud):
    fake = FakeConnector({"servers": servers(6), "volumes": [{"id": f"v{i}"} for i in range(6)],
                          "networks": [{"id": "n1"}]})
    sync(cloud, fake)
    fake.data["servers"].append({"id": "s-late", "name": "late"})
    fake.data["volumes"] = fake.data["volumes"][:2] + [{"id": "v-new"}]
    fake.failing["volumes"] = Unavailable("cinder is down", cloud="alpha", region="r1", status=503)
    fake.fail_after = 1  # the first page of volumes comes, then Cinder fails

    run = sync(cloud, fake)

    assert run.totals["failed_kinds"] == 1
    state = SyncState.objects.get(kind="volume")
    assert state.status == "stale" and "cinder is down" in state.error and "HTTP 503" in state.error
    assert present("volume") == {f"v{i}" for i in range(6)}  # nothing marked gone from a broken listing
    assert SyncState.objects.get(kind="server").status == "ok" and "s-late" in present()
    assert SyncState.objects.get(kind="network").status == "ok"


@pytest.mark.django_db
def test_an_unreachable_cloud_marks_its_kinds_stale_and_the_other_cloud_completes(cloud):
    other = make_cloud("beta")
    good = FakeConnector({"servers": servers(2)})

    def factory(c: Any, r: Any) -> FakeConnector:
        if c.slug == "alpha":
            raise Unavailable("connection refused", cloud="alpha", region="r1")
        return good

    run = SyncRun(job_id=None, reporter=None, full=True, kinds=["server", "volume"], connector_factory=factory,
                  cloud_threads=1, kind_threads=1)
    run.run([cloud, other])
    assert set(SyncState.objects.filter(cloud=cloud).values_list("status", flat=True)) == {"stale"}
    assert set(SyncState.objects.filter(cloud=other).values_list("status", flat=True)) == {"ok"}
    assert Resource.objects.filter(cloud=other).count() == 2


@pytest.mark.django_db
def test_unsupported_kinds_are_recorded_as_such(cloud):
    fake = FakeConnector({"servers": servers(1)}, unsupported=("volumes",),
                         failing={"networks": NotSupported("no network", cloud="alpha")})
    run = sync(cloud, fake)
    statuses = dict(SyncState.objects.values_list("kind", "status"))
    assert statuses == {"server": "ok", "volume": "unsupported", "network": "unsupported", "flavor": "ok"}
    assert run.totals["failed_kinds"] == 0


@pytest.mark.django_db
def test_writes_are_bulk_the_query_count_does_not_grow_with_the_page_size(cloud):
    def queries(page_size: int) -> int:
        Resource.objects.all().delete()
        fake = FakeConnector({"servers": servers(page_size * 4)}, page_size=page_size)
        with CaptureQueriesContext(connection) as first:
            sync(cloud, fake, kinds=["server"])
        for item in fake.data["servers"][::2]:
            item["status"] = "SHUTOFF"
        with CaptureQueriesContext(connection) as second:
            sync(cloud, fake, kinds=["server"])
        return len(first) + len(second)

    queries(1)  # creates the lease and sync state rows, once
    # 4 pages each: the same statements, whatever the page size...
    assert queries(5) == queries(40)
    # ...until statements are split in batches by the database's limit on parameters (999 on SQLite): 1 600
    # objects written in fewer than 100 statements, nowhere near one per object.
    assert queries(200) < 100


@pytest.mark.django_db
def test_quota_and_usage_are_resources_per_project_named_after_the_project(cloud):
    fake = FakeConnector({
        "projects": [{"id": "p1", "name": "demo", "enabled": True}],
        "quotas": [{"project_id": "p1", "compute": {"instances": 10}}],
        "usage": [{"project_id": "p1", "compute": {"instances": {"in_use": 3, "limit": 10}}}],
    })
    sync(cloud, fake, kinds=["quota", "usage", "project"])  # projects go first, so quotas get their names
    quota = Resource.objects.get(kind="quota")
    assert (quota.external_id, quota.project_id, quota.name) == ("p1", "p1", "demo")
    assert Resource.objects.get(kind="project").status == "enabled"
    assert Resource.objects.get(kind="usage").attrs["compute"]["instances"]["in_use"] == 3


@pytest.mark.django_db
def test_mapping_a_project_reassigns_its_resources_at_once(cloud, tenants):
    sync(cloud, FakeConnector({"servers": servers(3, project="p9")}), kinds=["server"])
    assert not Resource.objects.filter(tenant__isnull=False).exists()
    mapping = ProjectMapping.objects.create(cloud=cloud, project_id="p9", tenant=tenants["foreign"])
    assert Resource.objects.filter(tenant=tenants["foreign"]).count() == 3
    mapping.delete()
    assert not Resource.objects.filter(tenant__isnull=False).exists()


@pytest.mark.django_db
def test_a_managed_mark_is_read_and_never_taken_back(cloud):
    fake = FakeConnector({"servers": [{"id": "m", "metadata": {"souverain:managed": "true"}},
                                      {"id": "t", "tags": ["souverain-managed"]}, {"id": "u"}]})
    sync(cloud, fake, kinds=["server"])
    assert dict(Resource.objects.values_list("external_id", "managed")) == {"m": True, "t": True, "u": False}
    fake.data["servers"][0]["metadata"] = {}
    sync(cloud, fake, kinds=["server"])
    assert Resource.objects.get(external_id="m").managed is True


def test_attribute_changes_lists_changed_added_and_removed_keys_only():
    assert attribute_changes({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4}) == {
        "b": {"before": 2, "after": 5}, "c": {"before": 3, "after": None}, "d": {"before": None, "after": 4}}


@pytest.mark.django_db(transaction=True)
def test_clouds_and_kinds_sync_in_parallel_threads():
    clouds = [make_cloud(slug, regions=("r1", "r2")) for slug in ("one", "two", "three")]
    fakes = {c.slug: FakeConnector({"servers": servers(7), "volumes": [{"id": f"v{i}"} for i in range(5)],
                                    "networks": [{"id": "n"}]}, page_size=3) for c in clouds}
    run = SyncRun(job_id=None, reporter=None, full=True, kinds=["server", "volume", "network"],
                  connector_factory=lambda c, r: fakes[c.slug], cloud_threads=3, kind_threads=3)
    run.run(clouds)
    assert run.totals["created"] == 3 * 2 * 13
    assert SyncState.objects.filter(status="ok").count() == 3 * 2 * 3


@pytest.mark.django_db
def test_a_sync_job_records_progress_counts_and_errors_per_part(cloud, monkeypatch, settings):
    from souverain.jobs import services as jobs

    from .. import services

    settings.SOUVERAIN_SYNC_KIND_THREADS = 1  # one thread: this test's transaction is not visible to others
    fake = FakeConnector({"servers": servers(3)}, failing={"volumes": Unavailable("cinder down", cloud="alpha")})
    monkeypatch.setattr(services, "connector_for", lambda c, r: fake)
    make_cloud("no-region", regions=())

    job = services.request_sync(["alpha"], full=True, kinds=["server", "volume"], requested_by="ops")
    done = jobs.run_job(job.pk)

    assert done.status == "partial" and done.progress == 1.0
    assert done.counts["created"] == 3 and done.counts["failed_kinds"] == 1
    assert [(e["cloud"], e["kind"]) for e in done.errors] == [("alpha", "volume")]
    part = done.detail["alpha/r1"]
    assert part["kinds"] == {"server": "ok", "volume": "stale"} and part["done"] == 2 and part["seen"] == 3
    assert part["started_at"] <= part["finished_at"] and part["lock"] == "database"
    assert Resource.objects.filter(last_sync=done).count() == 3

    fake.failing["servers"] = Unavailable("nova down", cloud="alpha")
    failed = jobs.run_job(services.request_sync(["alpha"], kinds=["server", "volume"]).pk)
    assert failed.status == "failed"  # every part failed
    not_syncable = jobs.run_job(services.request_sync(["no-region"]).pk)
    assert not_syncable.status == "failed" and "not syncable" in not_syncable.errors[0]["error"]


@pytest.mark.django_db
def test_the_schedule_queues_one_job_per_cloud_in_scale_mode_and_one_for_all_otherwise(settings, clouds_yaml):
    from souverain.jobs.models import Job

    from ..services import schedule_syncs

    for slug in ("a", "b"):
        make_cloud(slug)
    make_cloud("no-region", regions=())
    settings.CELERY_BROKER_URL = ""
    assert [j.params["clouds"] for j in schedule_syncs(full=False)] == [["a", "b"]]
    assert schedule_syncs(full=False) == []  # the same sync is already waiting
    Job.objects.all().delete()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert sorted(j.params["clouds"][0] for j in schedule_syncs(full=True)) == ["a", "b"]
    assert all(j.params["full"] for j in Job.objects.all())
