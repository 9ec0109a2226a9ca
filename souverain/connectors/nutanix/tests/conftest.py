"""The Prism Central simulator on a free loopback port, and a connector to it. Skipped, saying why, where the
Nutanix SDKs (the optional ``nutanix`` extra) are not installed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("ntnx_vmm_py_client", reason="the Nutanix SDKs are not installed (the optional 'nutanix' "
                    "extra, see docs/nutanix.md)")

from souverain.connectors import get_connector  # noqa: E402
from souverain.connectors.nutanix import NutanixConnector  # noqa: E402
from testbed.nutanix import PrismSimulator  # noqa: E402


@pytest.fixture
def prism() -> Iterator[PrismSimulator]:
    with PrismSimulator(vms=23, task_delay=0.05) as sim:
        yield sim


@pytest.fixture
def nutanix(prism: PrismSimulator) -> NutanixConnector:
    connector = get_connector("nutanix", config={"endpoint": prism.url, "username": prism.username,
                                                 "password": prism.password}, name="bmc", region="clermont-dc1")
    assert isinstance(connector, NutanixConnector)
    return connector
