"""Provisioning on Nutanix: an AHV VM from a ``ServerSpec``, its day-2 power actions, its deletion.

A ``ServerSpec`` says flavor, image and network; Prism has no flavors, so ``flavor`` is a size: ``"2c4g"``
(vCPUs and GiB of memory) or one of ``SIZES``. ``image`` and ``network`` are an image's and a subnet's name or
extId: the VM boots from a disk cloned from the image, with one NIC on the subnet.

The request's labels (``souverain:request``, ``souverain:part``, the classes) go into the VM's description,
one ``key=value`` per line: the connector reads them back as metadata (``normalise.vm``), and ``adopt``
finds an earlier attempt's VM by them. Categories would be the Prism-native place, but they must exist
before a VM can reference them, and creating categories per request would pollute the shared category
list; the description is the VM's own.

Not supported (NotSupported): volumes, floating IPs, security groups, networks, resize, quotas (Prism
Central's project quotas are not read yet: ``quota_shortfalls`` answers none).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import ConnectorError, NotFound, NotSupported
from ..provisioning import (
    CLASSES_LABEL,
    MANAGED_LABEL,
    PART_LABEL,
    REQUEST_LABEL,
    Part,
    Progress,
    Provisioned,
    Provisioner,
    ProvisioningFailed,
    ServerSpec,
    Shortfall,
    Spec,
    _no_progress,
)
from .connector import NutanixConnector

#: Flavor-like names for Prism's free sizes: (vCPUs, MiB).
SIZES = {"small": (1, 2048), "medium": (2, 4096), "large": (4, 8192), "xlarge": (8, 16384)}
_SIZE = re.compile(r"^(\d+)c(\d+)g$")


def size_of(flavor: str) -> tuple[int, int]:
    match = _SIZE.match(flavor.strip().lower())
    if match:
        return int(match.group(1)), int(match.group(2)) * 1024
    try:
        return SIZES[flavor.strip().lower().split(".")[-1]]
    except KeyError:
        raise NotFound(f"flavor {flavor!r}: Nutanix sizes are '<vcpus>c<GiB>g' (e.g. 2c4g) or one of "
                       f"{', '.join(SIZES)}") from None


def labels_text(labels: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(labels.items()))


class NutanixProvisioner(Provisioner):
    connector: NutanixConnector

    def for_project(self, project_id: str) -> Provisioner:
        return self  # Prism Central credentials see the whole PC; projects are not used to scope them here

    def _find(self, kind: str, wanted: str) -> dict[str, Any]:
        for page in self.connector.raw_pages(kind):
            for item in page:
                if wanted in (item.get("extId"), item.get("name")):
                    return item
        raise NotFound(f"no {kind[:-1]} named or identified {wanted!r} on this Prism Central",
                       cloud=self.connector.cloud, region=self.connector.region)

    def adopt(self, ref: str, spec: Spec | None = None) -> list[Part]:
        marker = f"{REQUEST_LABEL}={ref}"
        parts = []
        for page in self.connector.iter_pages("servers"):
            for vm in page:
                if marker in str(vm["nutanix"].get("description") or "").splitlines():
                    parts.append(Part("servers", vm["metadata"].get(PART_LABEL, "server"), vm, adopted=True))
        return parts

    def create(self, spec: Spec, ref: str, *, labels: Mapping[str, str] | None = None,
               on_progress: Progress = _no_progress, fresh: bool = False) -> Provisioned:
        if not isinstance(spec, ServerSpec):
            raise NotSupported(f"creating a {spec.kind} is not supported by the Nutanix provider",
                               cloud=self.connector.cloud, region=self.connector.region)
        if spec.volume_gb or spec.floating_ip or spec.security_groups:
            raise NotSupported("Nutanix VMs are created without extra volumes, floating IPs or security groups",
                               cloud=self.connector.cloud, region=self.connector.region)
        if not fresh:
            found = self.adopt(ref, spec)
            if found:
                return Provisioned(ref, tuple(found))
        vcpus, ram = size_of(spec.flavor)
        image = self._find("images", spec.image)
        subnet = self._find("subnets", spec.network)
        on_progress(0.1, f"creating VM {spec.name}")
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.DataSource import DataSource
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.Disk import Disk
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.ImageReference import ImageReference
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.Nic import Nic
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.NicNetworkInfo import NicNetworkInfo
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.SubnetReference import SubnetReference
        from ntnx_vmm_py_client.models.vmm.v4.ahv.config.VmDisk import VmDisk

        every = {**(labels or {}), REQUEST_LABEL: ref, PART_LABEL: "server", MANAGED_LABEL: "true"}
        try:
            vm = self.connector.create_server(
                spec.name, vcpus=vcpus, ram=ram, description=labels_text(every),
                disks=[Disk(backing_info=VmDisk(data_source=DataSource(
                    reference=ImageReference(image_ext_id=image["extId"]))))],
                nics=[Nic(network_info=NicNetworkInfo(subnet=SubnetReference(ext_id=subnet["extId"])))])
            on_progress(0.7, f"powering VM {spec.name} on")
            vm = self.connector.power_on_server(vm["id"])
        except ConnectorError as exc:
            deleted, kept = self.rollback(ref)
            raise ProvisioningFailed(f"creating VM {spec.name} failed: {exc.message}", ref=ref,
                                     rolled_back=deleted, left=kept) from exc
        on_progress(1.0, f"VM {spec.name} is on")
        return Provisioned(ref, (Part("servers", "server", vm),))

    def rollback(self, ref: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        deleted, kept = [], []
        for part in self.adopt(ref):
            try:
                self.connector.delete_server(part.id)
                deleted.append(("servers", part.id))
            except ConnectorError:
                kept.append(("servers", part.id))
        return deleted, kept

    def quota_shortfalls(self, project_id: str, spec: Spec) -> list[Shortfall]:
        return []

    def server_action(self, server_id: str, action: str, *, on_progress: Progress = _no_progress,
                      **args: Any) -> dict[str, Any] | None:
        on_progress(0.1, f"{action} VM {server_id}")
        if action == "start":
            return self.connector.power_on_server(server_id)
        if action == "stop":
            return self.connector.power_off_server(server_id)
        if action == "delete":
            self.connector.delete_server(server_id, ignore_missing=False)
            return None
        raise NotSupported(f"the {action!r} action is not supported by the Nutanix provider",
                           cloud=self.connector.cloud, region=self.connector.region)


PROVISIONER = NutanixProvisioner
__all__ = ["CLASSES_LABEL", "PROVISIONER", "NutanixProvisioner"]
