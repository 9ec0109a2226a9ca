"""Classification by metadata, end to end on the real test-bed (issue 10, item 3).

A server and a volume are labelled ``souverain:classes=health`` by Nova and Cinder metadata (no tag, no tenant
mapping) in a project of the test's own on the international cloud; the inventory syncs them as the API returns
them, and a compliance pass finds them misplaced (eu-west-1's HDS certificate expired on 2026-05-15), while an
unlabelled server beside them stays clean. The test-bed is expected: these tests error, never skip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import testbed
from souverain.estate.models import Cloud, Region
from souverain.inventory.models import Resource
from souverain.inventory.services import request_sync
from souverain.inventory.tests.test_testbed import _wait, scratch_project
from souverain.jobs import services as jobs
from souverain.jobs.models import Job
from souverain.policy.compliance import evaluate
from souverain.policy.models import Violation

pytestmark = [pytest.mark.testbed, pytest.mark.django_db(transaction=True)]

HEALTH = {"souverain:classes": "health"}


@pytest.fixture(scope="module")
def clouds_yaml() -> Iterator[Path]:
    path = testbed.up()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
        yield path


def test_classes_set_as_metadata_on_real_servers_and_volumes_are_found(clouds_yaml, example_estate):
    Cloud.objects.filter(slug="international").update(clouds_yaml_entry="international-admin")
    # The test-bed's international cloud has eu-west-1 only: the example's other regions would sync in error.
    Region.objects.filter(cloud__slug="international").exclude(slug="eu-west-1").delete()
    with scratch_project(clouds_yaml, "international") as (project, conn):
        flavor = conn.compute.find_flavor("m1.nano")
        image = conn.image.find_image("testbed-tiny")
        labelled = conn.compute.create_server(name="tb-health", flavor_id=flavor.id, image_id=image.id,
                                              networks="none", metadata={**HEALTH, "owner": "records"}).id
        plain = conn.compute.create_server(name="tb-plain", flavor_id=flavor.id, image_id=image.id,
                                           networks="none", metadata={"owner": "records"}).id
        volume = conn.block_storage.create_volume(size=1, name="tb-health-vol", metadata=HEALTH).id
        _wait(lambda: all(conn.compute.get_server(s).status in ("ACTIVE", "ERROR") for s in (labelled, plain)), 180)
        _wait(lambda: conn.block_storage.get_volume(volume).status == "available", 120)

        job = jobs.run_job(request_sync(["international"], full=True, kinds=["server", "volume"],
                                        requested_by="compliance-testbed").pk)
        assert job is not None and job.status == Job.Status.SUCCEEDED, job and job.errors
        ours = {r.external_id: r for r in Resource.objects.filter(project_id=project, gone_at__isnull=True)}
        assert {labelled, plain, volume} <= set(ours)
        assert ours[labelled].tags == [] and ours[labelled].tenant is None  # metadata alone classifies it
        assert ours[labelled].attrs["metadata"]["souverain:classes"] == "health"

        evaluate(on=dt.date(2026, 5, 16))
        rules = {ext: set(Violation.objects.filter(resource=ours[ext], resolved_at__isnull=True)
                          .values_list("rule", flat=True)) for ext in (labelled, plain, volume)}
        assert "hds.certificate" in rules[labelled]
        assert "hds.certificate" in rules[volume]
        assert rules[plain] == set()
