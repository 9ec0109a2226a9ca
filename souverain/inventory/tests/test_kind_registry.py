"""The inventory keeps no list of kinds of its own: its views, its columns and compliance's data kinds are the
registry's, so they cannot disagree, and a new kind needs no migration."""

from __future__ import annotations

from souverain.connectors import kinds as registry
from souverain.inventory import kinds as K
from souverain.inventory.models import Resource, SyncState


def test_the_inventory_s_kinds_are_the_registry_s() -> None:
    assert list(K.KINDS) == list(registry.all_kinds())
    assert set(K.BY_NAME) == {k.name for k in registry.all_kinds()}
    assert set(K.BY_LISTING) == set(registry.listings())
    assert list(K.DATA_KINDS) == [k.name for k in registry.all_kinds() if k.holds_data]


def test_kinds_registered_later_appear_everywhere_at_once() -> None:
    extra = registry.Kind("test_widget", "test_widgets", "Widget", "Gadget", holds_data=True)
    registry.register_kind(extra)
    try:
        assert extra in K.KINDS and "test_widget" in K.DATA_KINDS and K.kind("test_widgets") is extra
        assert K.label("test_widget", "fr") == "Gadget"
    finally:
        registry.unregister_kind("test_widget")
    assert "test_widget" not in K.DATA_KINDS


def test_no_database_choices_for_kinds() -> None:
    for model in (Resource, SyncState):
        field = model._meta.get_field("kind")
        assert field.choices is None, model
        assert field.validators, model
