"""The inventory against the real test-bed (two OpenStack clouds on loopback).

Resources are made with openstacksdk directly - outside Souverain - in a project of the test's own on each
cloud, mapped to the home tenant; assertions look at that project only, since other suites use the same
clouds at the same time. The test-bed is expected: when it cannot come up these tests error, never skip.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import openstack
import pytest
import yaml

import testbed
from souverain.estate.models import Cloud, LegalEntity, Region
from souverain.jobs import services as jobs
from souverain.jobs.models import Job

from .. import services
from ..models import ProjectMapping, Resource, ResourceChange, SyncState
from ..services import request_sync

pytestmark = [pytest.mark.testbed, pytest.mark.django_db(transaction=True)]

REGIONS = {"sovereign": "fr-paris-1", "international": "eu-west-1"}
#: What these tests sync: the kinds they make, and a few neighbours (quotas are read per project of the
#: whole cloud, one call each: slow, and their own test is the connector's).
KINDS = ["server", "volume", "snapshot", "network", "subnet", "port", "security_group", "image", "flavor", "project"]


@pytest.fixture(scope="module")
def clouds_yaml() -> Iterator[Path]:
    path = testbed.up()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        yield path


@pytest.fixture
def estate(clouds_yaml: Path, tenants: dict[str, Any]) -> dict[str, Cloud]:
    operator = LegalEntity.objects.create(slug="tb-operator", name="Test-bed operator", country="FR")
    clouds = {}
    for name, region in REGIONS.items():
        cloud = Cloud.objects.create(slug=name, name=name, kind="openstack", clouds_yaml_entry=f"{name}-admin",
                                     operator=operator)
        Region.objects.create(cloud=cloud, slug=region, name=region)
        clouds[name] = cloud
    return clouds


@contextmanager
def scratch_project(clouds_yaml: Path, cloud: str) -> Iterator[tuple[str, openstack.connection.Connection]]:
    """A new project, and an openstacksdk connection scoped to it (the admin user as its member)."""
    admin = openstack.connect(cloud=f"{cloud}-admin")
    project = admin.identity.create_project(name=f"inv-{uuid.uuid4().hex[:8]}", domain_id="default")
    admin.identity.assign_project_role_to_user(project, admin.current_user_id, admin.identity.find_role("member"))
    entry = copy.deepcopy(yaml.safe_load(clouds_yaml.read_text())["clouds"][f"{cloud}-admin"])
    for key in ("project_name", "project_domain_name"):
        entry["auth"].pop(key)
    entry["auth"]["project_id"] = project.id
    conn = openstack.connect(load_yaml_config=False, load_envvars=False, **entry)
    try:
        yield project.id, conn
    finally:
        _sweep(conn)
        admin.identity.delete_project(project)


def _sweep(conn: openstack.connection.Connection) -> None:
    for server in list(conn.compute.servers()):
        conn.compute.delete_server(server, ignore_missing=True)
    for volume in list(conn.block_storage.volumes()):
        _wait(lambda v=volume: conn.block_storage.get_volume(v).status not in ("creating", "attaching"), 60)
        conn.block_storage.delete_volume(volume, ignore_missing=True)
    own = conn.current_project_id
    for network in list(conn.network.networks(project_id=own)):
        conn.network.delete_network(network, ignore_missing=True)


def _wait(ready: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "the test-bed did not settle in time"
        time.sleep(1)


def make_resources(conn: openstack.connection.Connection, prefix: str) -> dict[str, list[str]]:
    """3 servers (one request, min_count), 2 volumes, 2 networks; waits until they are settled."""
    flavor = conn.compute.find_flavor("m1.nano")
    image = conn.image.find_image("testbed-tiny")
    conn.compute.create_server(name=f"{prefix}-vm", flavor_id=flavor.id, image_id=image.id, networks="none",
                               min_count=3, max_count=3)
    volumes = [conn.block_storage.create_volume(size=1, name=f"{prefix}-vol-{i}").id for i in range(2)]
    networks = [conn.network.create_network(name=f"{prefix}-net-{i}").id for i in range(2)]
    _wait(lambda: len(list(conn.compute.servers())) == 3, 60)
    servers = [s.id for s in conn.compute.servers()]
    # Settled objects only: a server still building would show up as "changed" in the next sync.
    _wait(lambda: all(s.status in ("ACTIVE", "ERROR") and not s.task_state for s in conn.compute.servers()), 180)
    _wait(lambda: all(conn.block_storage.get_volume(v).status == "available" for v in volumes), 120)
    return {"server": servers, "volume": volumes, "network": networks}


def sync(clouds: list[str], *, full: bool) -> Job:
    job = request_sync(clouds, full=full, kinds=KINDS, requested_by="testbed-test")
    done = jobs.run_job(job.pk)
    assert done is not None
    return done


def ours(project_ids: list[str], **filters: Any) -> dict[str, Resource]:
    return {r.external_id: r for r in Resource.objects.filter(project_id__in=project_ids, **filters)}


def test_discovers_what_was_made_outside_and_records_exactly_the_later_changes(clouds_yaml, estate, tenants):
    with scratch_project(clouds_yaml, "sovereign") as (sov_project, sov), \
            scratch_project(clouds_yaml, "international") as (intl_project, intl):
        made = {"sovereign": make_resources(sov, "tb"), "international": make_resources(intl, "tb")}
        for cloud, project in (("sovereign", sov_project), ("international", intl_project)):
            ProjectMapping.objects.create(cloud=estate[cloud], project_id=project, tenant=tenants["home"])

        first = sync(["sovereign", "international"], full=True)
        assert first.status == Job.Status.SUCCEEDED, first.errors
        found = ours([sov_project, intl_project], gone_at__isnull=True)
        for cloud, kinds in made.items():
            for kind, ids in kinds.items():
                for external_id in ids:
                    resource = found.get(external_id)
                    assert resource is not None, f"{cloud} {kind} {external_id} not discovered"
                    assert (resource.kind, resource.cloud.slug, resource.managed) == (kind, cloud, False)
                    assert resource.tenant == tenants["home"]
        project_row = Resource.objects.get(kind="project", external_id=sov_project)
        assert project_row.tenant == tenants["home"]  # the project itself belongs to its tenant

        # Outside Souverain again: rename a server, a volume and a network; delete a server.
        renamed_server, deleted_server = made["sovereign"]["server"][:2]
        sov.compute.update_server(renamed_server, name="tb-renamed")
        sov.compute.delete_server(deleted_server)
        sov.block_storage.update_volume(made["sovereign"]["volume"][0], name="tb-vol-renamed")
        intl.network.update_network(made["international"]["network"][0], name="tb-net-renamed")
        _wait(lambda: sov.compute.find_server(deleted_server) is None, 60)

        incremental = sync(["sovereign", "international"], full=False)
        assert incremental.status == Job.Status.SUCCEEDED, incremental.errors
        # Exactly those, whatever the kind: nothing else of our projects changed (Neutron lists a security
        # group's rules in a new order each time, which is no change).
        changes = ResourceChange.objects.filter(job=incremental, resource__project_id__in=[sov_project, intl_project])
        assert {(c.resource.external_id, c.action) for c in changes} == {
            (renamed_server, "updated"), (deleted_server, "gone"),
            (made["sovereign"]["volume"][0], "updated"), (made["international"]["network"][0], "updated"),
        }
        renamed = changes.get(resource__external_id=renamed_server)
        assert renamed.changes["name"] == {"before": "tb-vm-1", "after": "tb-renamed"} or \
            renamed.changes["name"]["after"] == "tb-renamed"
        assert Resource.objects.get(external_id=deleted_server).status == "deleted"

        # A volume deleted outside: Cinder's time filter does not show deletions; the next full sync does.
        doomed = made["sovereign"]["volume"][1]
        sov.block_storage.delete_volume(doomed)
        _wait(lambda: sov.block_storage.find_volume(doomed) is None, 60)
        full = sync(["sovereign"], full=True)
        assert full.status == Job.Status.SUCCEEDED, full.errors
        assert Resource.objects.get(external_id=doomed).gone_at is not None
        assert ResourceChange.objects.get(job=full, resource__external_id=doomed).action == "gone"


class _CinderStopsMidListing:
    """A region's real connector, except that its volume listing comes one volume a page and the sovereign
    Cinder API is stopped as soon as the first page is in: the sync meets the outage half-way through a
    listing, with one page already written."""

    def __init__(self, real: Any, outage: ExitStack) -> None:
        self._real, self._outage = real, outage
        self.first_page: list[str] = []
        self.stopped: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def iter_pages(self, kind: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        if kind != "volumes":
            yield from self._real.iter_pages(kind, **kwargs)
            return
        pages = self._real.iter_pages(kind, **{**kwargs, "page_size": 1})
        first = next(pages)
        self.first_page.extend(item["id"] for item in first)
        yield first
        self.stopped = self._outage.enter_context(testbed.outage("sovereign-cinder-api"))
        yield from pages


def test_cinder_stopped_during_a_sync_leaves_the_rest_complete_and_its_part_stale(clouds_yaml, estate, monkeypatch):
    with scratch_project(clouds_yaml, "sovereign") as (project, conn), ExitStack() as outage:
        volumes = [conn.block_storage.create_volume(size=1, name=f"tb-outage-{i}").id for i in range(3)]
        network = conn.network.create_network(name="tb-outage-net").id
        _wait(lambda: all(conn.block_storage.get_volume(v).status == "available" for v in volumes), 120)
        before = sync(["sovereign", "international"], full=True)
        assert before.status == Job.Status.SUCCEEDED, before.errors
        present = {c.slug: set(Resource.objects.filter(cloud=c, gone_at__isnull=True).values_list("id", flat=True))
                   for c in estate.values()}
        for volume in volumes:  # changed outside: whichever page a volume is on, the sync has something to write
            conn.block_storage.update_volume(volume, name=f"{volume[:8]}-renamed")

        real = services.connector_for
        sovereign = _CinderStopsMidListing(real(estate["sovereign"], estate["sovereign"].regions.get()), outage)
        monkeypatch.setattr(services, "cached_connector",
                            lambda cloud, region: sovereign if cloud.slug == "sovereign" else real(cloud, region))
        during = sync(["sovereign", "international"], full=True)
        assert sovereign.stopped == ["sovereign-cinder-api"], "the sync never asked for a second page of volumes"

        assert during.status == Job.Status.PARTIAL
        stale = set(SyncState.objects.filter(status="stale").values_list("cloud__slug", "kind"))
        # Snapshots are Cinder's too: stale when their listing came after the outage began.
        assert ("sovereign", "volume") in stale <= {("sovereign", "volume"), ("sovereign", "snapshot")}
        assert all("sovereign" in s.error for s in SyncState.objects.filter(status="stale"))
        assert {e["kind"] for e in during.errors} == {kind for _, kind in stale}
        assert set(SyncState.objects.filter(cloud__slug="international").values_list("status", flat=True)) == {"ok"}
        assert SyncState.objects.get(cloud__slug="sovereign", kind="server").status == "ok"
        assert SyncState.objects.get(cloud__slug="sovereign", kind="network").status == "ok"
        # What the listing had read before the outage is written; nothing was marked gone by the broken listing.
        [first] = sovereign.first_page
        assert first in volumes  # Cinder lists the newest first
        written = Resource.objects.get(cloud__slug="sovereign", kind="volume", external_id=first)
        assert written.name == f"{first[:8]}-renamed" and written.last_sync == during
        assert ResourceChange.objects.get(job=during, resource=written).action == "updated"
        # The volumes after it were never read: they stay as last seen, renamed only by the next sync.
        assert set(Resource.objects.filter(external_id__in=set(volumes) - {first}).values_list("name", flat=True)) \
            <= {f"tb-outage-{i}" for i in range(3)}
        assert not ResourceChange.objects.filter(job=during, action="gone", resource__kind="volume").exists()
        for slug, ids in present.items():
            # Our own objects all still there; other suites may delete theirs meanwhile.
            still = set(Resource.objects.filter(cloud__slug=slug, gone_at__isnull=True).values_list("id", flat=True))
            assert len(ids - still) <= 5, f"{slug}: {len(ids - still)} resources lost"
        assert {r.gone_at for r in Resource.objects.filter(external_id__in=[*volumes, network])} == {None}

        outage.close()  # Cinder back (testbed.up() waits until it answers)
        monkeypatch.undo()
        after = sync(["sovereign"], full=False)
        assert SyncState.objects.get(cloud__slug="sovereign", kind="volume").status == "ok", after.errors
        assert {r.name for r in Resource.objects.filter(external_id__in=volumes)} == \
            {f"{v[:8]}-renamed" for v in volumes}
