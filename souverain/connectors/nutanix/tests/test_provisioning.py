"""Provisioning an AHV VM through the provider-neutral Provisioner, against the Prism Central simulator."""

from __future__ import annotations

import pytest

from souverain.connectors import NotFound, NotSupported
from souverain.connectors.provisioning import ProvisioningFailed, ServerSpec, VolumeSpec

SPEC = ServerSpec(name="ledger-1", flavor="2c4g", image="rhel-9.4", network="prod-vlan-100")


def test_create_stop_delete_a_vm(nutanix, prism):
    provisioner = nutanix.provisioner()
    steps = []
    done = provisioner.create(SPEC, "req-1", labels={"souverain:classes": "personal"},
                              on_progress=lambda f, m: steps.append(m))
    vm = done.of("server").resource
    assert vm["status"] == "ACTIVE" and vm["vcpus"] == 2 and vm["ram"] == 4096
    assert vm["metadata"]["souverain:classes"] == "personal" and vm["metadata"]["souverain:request"] == "req-1"
    raw = prism.collections["vms"].items[vm["id"]]
    assert raw["disks"][0]["backingInfo"]["dataSource"]["reference"]["imageExtId"] == prism.image_ids[0]
    assert raw["nics"][0]["networkInfo"]["subnet"]["extId"] == prism.subnet_ids[0]
    assert steps[-1] == "VM ledger-1 is on"
    # A second attempt with the same ref adopts the VM instead of making another.
    again = provisioner.create(SPEC, "req-1")
    assert again.of("server").id == vm["id"] and again.of("server").adopted
    assert provisioner.server_action(vm["id"], "stop")["status"] == "SHUTOFF"
    assert provisioner.server_action(vm["id"], "delete") is None
    assert vm["id"] not in prism.collections["vms"].items
    with pytest.raises(NotSupported):
        provisioner.server_action(vm["id"], "resize")


def test_a_failed_creation_is_rolled_back(nutanix, prism):
    provisioner = nutanix.provisioner()
    count = len(prism.collections["vms"].items)
    original = nutanix.power_on_server

    def refuse(vm_id):
        prism.fail_next_task = True
        return original(vm_id)

    nutanix.power_on_server = refuse
    with pytest.raises(ProvisioningFailed, match="rolled back: servers "):
        provisioner.create(SPEC, "req-2", fresh=True)
    assert len(prism.collections["vms"].items) == count


def test_unknown_sizes_images_and_kinds_are_refused(nutanix):
    provisioner = nutanix.provisioner()
    with pytest.raises(NotFound, match="2c4g"):
        provisioner.create(ServerSpec(name="x", flavor="m1.huge", image="rhel-9.4", network="prod-vlan-100"), "r3")
    with pytest.raises(NotFound, match="no image named"):
        provisioner.create(ServerSpec(name="x", flavor="small", image="nope", network="prod-vlan-100"), "r3")
    with pytest.raises(NotSupported):
        provisioner.create(VolumeSpec(name="v", size_gb=1), "r4")
