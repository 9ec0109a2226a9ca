"""One registry of kinds (``connectors.kinds``): every provider's list of kinds is checked against it, so the lists
cannot disagree; a provider implements only the listing, the other verbs say they are not supported."""

from __future__ import annotations

import importlib

import pytest

from souverain.connectors import RESOURCE_KINDS, Connector, NotSupported, available_providers, kinds, registry
from souverain.connectors.openstack import OpenStackConnector
from souverain.connectors.openstack.kinds import KINDS as OPENSTACK_API
from souverain.connectors.openstack.kinds import QUOTA_APIS


def provider_classes() -> dict[str, type[Connector]]:
    found = {}
    for name in available_providers():
        try:
            found[name] = registry.provider_class(name)
        except ImportError:  # an optional SDK missing here (Nutanix): its own tests say so
            continue
    return found


def test_every_provider_lists_only_registry_kinds_and_normalises_them() -> None:
    listings = set(kinds.listings())
    classes = provider_classes()
    assert "openstack" in classes
    for name, cls in classes.items():
        assert cls.kinds, f"{name} lists no kind"
        assert set(cls.kinds) <= listings, f"{name} lists kinds the registry lacks: {set(cls.kinds) - listings}"
        assert set(cls.incremental_kinds) <= set(cls.kinds), name
        assert cls.display_name, name
        assert "normalise" not in getattr(cls, "__abstractmethods__", ()), name


def test_the_openstack_api_map_covers_exactly_the_kinds_it_declares() -> None:
    assert set(OpenStackConnector.kinds) == set(OPENSTACK_API) | {"quotas", "usage"}
    assert QUOTA_APIS  # quotas and usage are read per project through these
    assert {k.listing for k in kinds.all_kinds() if k.per_project} == {"quotas", "usage"}


def test_nutanix_declares_only_what_its_api_map_lists() -> None:
    nutanix = pytest.importorskip("souverain.connectors.nutanix.connector")
    assert set(nutanix.NutanixConnector.kinds) <= set(nutanix.KINDS)


def test_the_builtin_listings_are_the_registry_s() -> None:
    assert RESOURCE_KINDS == tuple(k.listing for k in kinds.BUILTIN)
    names = [k.name for k in kinds.all_kinds()]
    assert len(names) == len(set(names)) and len(set(kinds.listings())) == len(names)
    assert [k.name for k in kinds.all_kinds()][0] == "server"  # the longest listing starts first


def test_a_kind_under_a_taken_name_is_refused_and_the_same_kind_twice_is_harmless() -> None:
    server = kinds.get_kind("server")
    assert kinds.register_kind(server) is server
    with pytest.raises(ValueError, match="clashes"):
        kinds.register_kind(kinds.Kind("server", "vms", "VM", "VM"))
    with pytest.raises(ValueError, match="unknown resource kind 'vm'"):
        kinds.get_kind("vm")


def test_every_kind_has_both_display_names() -> None:
    for kind in kinds.all_kinds():
        assert kind.label_en and kind.label_fr
        assert kind.display_name("fr-fr") == kind.label_fr and kind.display_name("en") == kind.label_en


def test_normalised_forms_are_checked() -> None:
    assert kinds.check_normalised("server", {"id": "x", "name": "a"}) == {"id": "x", "name": "a"}
    with pytest.raises(KeyError):
        kinds.check_normalised("server", {"name": "a"})
    with pytest.raises(ValueError, match="unknown key.*nova_extra"):
        kinds.check_normalised("server", {"id": "x", "nova_extra": 1})


def test_openstack_documents_normalise_with_unknown_vendor_fields_ignored() -> None:
    server = {"id": "s1", "name": "web", "status": "ACTIVE", "tenant_id": "p1", "tags": ["b", "a"],
              "metadata": {"souverain:managed": "true"}, "OS-EXT-AZ:availability_zone": "az1",
              "flavor": {"original_name": "m1.small", "vcpus": 1, "ram": 512},
              "addresses": {"net": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"}]},
              "huawei:extension": {"anything": True}, "created": "2026-01-01T00:00:00Z"}
    form = kinds.check_normalised("server", OpenStackConnector.normalise("servers", server))
    assert form == {"id": "s1", "name": "web", "status": "active", "project": "p1", "tags": ["a", "b"],
                    "labels": {"souverain:managed": "true"}, "managed": True, "zone": "az1", "flavor": "m1.small",
                    "vcpus": 1, "ram": 512, "addresses": {"net": [{"addr": "10.0.0.5", "version": 4}]},
                    "created": "2026-01-01T00:00:00Z"}
    assert OpenStackConnector.normalise("servers", {"id": "s2", "status": "DELETED"})["deleted"] is True
    assert "deleted" not in OpenStackConnector.normalise("volumes", {"id": "v", "status": "deleted"})
    quota = OpenStackConnector.normalise("quotas", {"project_id": "p1", "compute": {}})
    assert (quota["id"], quota["project"]) == ("p1", "p1")


class OnlyListing(Connector):
    """The least a provider implements."""

    kinds = ("servers",)
    cloud = "c"  # type: ignore[assignment]
    region = "r"  # type: ignore[assignment]

    def iter_pages(self, kind, *, changes_since=None, page_size=None):  # type: ignore[no-untyped-def]
        yield [{"id": "1"}]

    @classmethod
    def normalise(cls, kind, item):  # type: ignore[no-untyped-def]
        return {"id": item["id"]}


@pytest.mark.parametrize("verb, args", [("create_server", ("x",)), ("delete_volume", ("v",)),
                                        ("get_network", ("n",)), ("quotas", ("p",)), ("capacity", ())])
def test_only_the_listing_is_required_and_other_verbs_say_they_are_not_supported(verb: str, args: tuple) -> None:
    connector = OnlyListing()
    assert connector.supports("servers") and not connector.supports("volumes")
    assert list(connector.servers()) == [{"id": "1"}]
    kwargs = {"flavor_id": "f"} if verb == "create_server" else {}
    with pytest.raises(NotSupported, match="not supported|do not report"):
        getattr(connector, verb)(*args, **kwargs)


def test_the_registry_module_imports_no_django() -> None:
    module = importlib.import_module("souverain.connectors.kinds")
    assert "django" not in module.__dict__
