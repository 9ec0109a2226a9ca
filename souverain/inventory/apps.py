from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "souverain.inventory"
    label = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from souverain.connectors.registry import provider_display_names
        from souverain.estate import cloudkinds

        from . import signals, tasks  # noqa: F401  (mapping receivers; the inventory.sync job kind)

        # The estate validates a cloud's kind against the installed providers, which it may not import itself.
        cloudkinds.set_provider_source(provider_display_names)
