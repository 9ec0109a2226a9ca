"""The registry: providers by name, one decorator to add one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from souverain.connectors import RESOURCE_KINDS, Connector, available_providers, get_connector, register, registry
from souverain.connectors.openstack import OpenStackConnector

from .fakecloud import CONFIG


@pytest.fixture
def clean_registry() -> Iterator[None]:
    saved = dict(registry._providers)
    yield
    registry._providers.clear()
    registry._providers.update(saved)


def test_openstack_is_available_and_builds_from_a_config() -> None:
    assert "openstack" in available_providers()
    connector = get_connector("openstack", config=CONFIG, name="mine")  # no request is sent before first use

    assert isinstance(connector, OpenStackConnector)
    assert connector.provider == "openstack"
    assert (connector.cloud, connector.region) == ("mine", "fr-paris-1")


def test_an_unknown_provider_names_the_available_ones() -> None:
    with pytest.raises(ValueError, match="unknown cloud provider 'vmware'.*openstack"):
        get_connector("vmware")


def test_registering_a_provider_makes_it_available(clean_registry: None) -> None:
    @register("dummy")
    class Dummy(OpenStackConnector):
        pass

    assert "dummy" in available_providers()
    assert isinstance(get_connector("dummy", config=CONFIG), Dummy)


def test_one_name_serves_one_class(clean_registry: None) -> None:
    with pytest.raises(ValueError, match="already served by OpenStackConnector"):
        register("openstack")(type("Other", (OpenStackConnector,), {}))


def test_a_provider_must_implement_every_verb() -> None:
    class Incomplete(Connector):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_resource_kinds_have_getters_where_they_are_objects() -> None:
    """The kinds the base interface was written for (OpenStack's): other providers' kinds, registered when their
    package is imported, are listed only (a getter is optional: NotSupported)."""
    from souverain.connectors.openstack.kinds import KINDS as OPENSTACK_KINDS

    for kind in [k for k in RESOURCE_KINDS if k in {*OPENSTACK_KINDS, "quotas", "usage"}]:
        has_getter = hasattr(Connector, f"get_{kind[:-1]}")
        assert has_getter == (kind not in ("quotas", "usage")), kind
