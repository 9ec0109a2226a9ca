"""The Nutanix connector against the Prism Central simulator, through the unmodified SDKs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from souverain.connectors import Conflict, NotFound, NotSupported, Unauthorized, get_connector
from souverain.connectors.errors import ConnectorError


def test_lists_every_vm_in_full_pages_with_categories_as_tags(nutanix, prism):
    before = prism.requests
    pages = list(nutanix.iter_pages("servers", page_size=10))
    assert [len(p) for p in pages] == [10, 10, 3]
    # one request per page, plus the categories listing read once
    assert prism.requests - before == 3 + 1
    vms = [vm for page in pages for vm in page]
    assert len({vm["id"] for vm in vms}) == 23
    first = next(vm for vm in vms if vm["name"] == "vm-00001")
    assert first["status"] == "ACTIVE" and first["vcpus"] == 2 and first["ram"] == 4096
    assert first["tags"] == ["Department=Risk", "souverain:data-class=personal"]
    assert first["metadata"]["souverain:data-class"] == "personal"
    assert first["nutanix"]["$objectType"] == "vmm.v4.ahv.config.Vm"
    assert next(vm for vm in vms if vm["name"] == "vm-00000")["status"] == "SHUTOFF"


@pytest.mark.parametrize("kind,count", [("images", 2), ("subnets", 2), ("clusters", 1), ("hosts", 2),
                                        ("storage_containers", 1), ("categories", 3)])
def test_lists_the_other_kinds(nutanix, kind, count):
    items = [item for page in nutanix.iter_pages(kind) for item in page]
    assert len(items) == count and all(item["id"] and item["name"] for item in items)


def test_incremental_listing_asks_for_what_changed(nutanix, prism):
    since = datetime.now(UTC) - timedelta(seconds=5)
    assert [vm for page in nutanix.iter_pages("servers", changes_since=since) for vm in page] == []
    vm_id = next(iter(prism.collections["vms"].items))
    nutanix.power_off_server(vm_id)
    changed = [vm for page in nutanix.iter_pages("servers", changes_since=since) for vm in page]
    assert [vm["id"] for vm in changed] == [vm_id] and changed[0]["status"] == "SHUTOFF"


def test_vm_lifecycle_with_tasks_and_etags(nutanix, prism):
    vm = nutanix.create_server("app-1", vcpus=4, ram=8192, category_ids=[prism.category_ids[1]])
    assert vm["name"] == "app-1" and vm["vcpus"] == 4 and vm["status"] == "SHUTOFF"
    assert vm["tags"] == ["souverain:data-class=personal"] and vm["etag"]
    assert nutanix.power_on_server(vm["id"])["status"] == "ACTIVE"
    assert nutanix.update_server(vm["id"], description="billing")["nutanix"]["description"] == "billing"
    assert nutanix.power_off_server(vm["id"])["status"] == "SHUTOFF"
    nutanix.delete_server(vm["id"])
    with pytest.raises(NotFound):
        nutanix.get_server(vm["id"])
    nutanix.delete_server(vm["id"])  # already gone: nothing to do


def test_a_stale_etag_is_refused(nutanix, prism):
    import ntnx_vmm_py_client as vmm

    vm_id = next(iter(prism.collections["vms"].items))
    api = vmm.VmApi(api_client=nutanix._clients["vmm"])
    with pytest.raises(Conflict, match="VMM-30101"):
        nutanix._call(api.power_off_vm, vm_id, if_match="stale")


def test_a_failed_task_is_an_error_naming_it(nutanix, prism):
    prism.fail_next_task = True
    with pytest.raises(ConnectorError, match="FAILED: Simulated failure"):
        nutanix.create_server("doomed")


def test_wrong_password_and_unknown_kind(prism):
    wrong = get_connector("nutanix", config={"endpoint": prism.url, "username": "admin", "password": "no"})
    with pytest.raises(Unauthorized):
        list(wrong.iter_pages("servers"))
    with pytest.raises(NotSupported):
        list(wrong.iter_pages("routers"))
    with pytest.raises(NotSupported, match=r"create_router is not supported by this provider \(nutanix\)"):
        wrong.create_router("r")


def test_the_simulator_refuses_bad_paging_in_nutanix_format(nutanix):
    with pytest.raises(ConnectorError, match="40001"):
        import ntnx_vmm_py_client as vmm

        nutanix._call(vmm.VmApi(api_client=nutanix._clients["vmm"]).list_vms, _limit=500)


@pytest.mark.parametrize("kind,model", [("servers", "Vm"), ("images", "Image"), ("subnets", "Subnet"),
                                        ("clusters", "Cluster"), ("hosts", "Host"),
                                        ("storage_containers", "StorageContainer"), ("categories", "Category")])
def test_the_sdk_builds_its_own_models_from_every_listing_the_connector_reads_raw(nutanix, kind, model):
    # The connector keeps listings in the API's JSON; the contract check is that the SDK, used plainly, reads the
    # simulator's listings into its typed models.
    from souverain.connectors.nutanix.connector import KINDS

    ns, cls, method, _, _ = KINDS[kind]
    answer = nutanix._call(getattr(nutanix._api(ns, cls), method), _page=0, _limit=5)
    assert answer.data and all(type(item).__name__ == model for item in answer.data)


def test_the_simulator_filters_orders_and_requires_if_match_on_put(nutanix, prism):
    import ntnx_vmm_py_client as vmm
    from ntnx_vmm_py_client.models.vmm.v4.ahv.config.Vm import Vm

    api = vmm.VmApi(api_client=nutanix._clients["vmm"])
    named = nutanix._call(api.list_vms, _filter="name eq 'vm-00007'")
    assert [vm.name for vm in named.data] == ["vm-00007"]
    last = nutanix._call(api.list_vms, _orderby="name desc", _limit=2)
    assert [vm.name for vm in last.data] == ["vm-00022", "vm-00021"]
    with pytest.raises(ConnectorError, match="40002"):
        nutanix._call(api.list_vms, _filter="startswith(name, 'vm')")
    vm_id = next(iter(prism.collections["vms"].items))
    with pytest.raises(Conflict, match="VMM-30100"):  # 428: a new body carries no ETag
        nutanix._call(api.update_vm_by_id, vm_id, Vm(name="renamed"))
