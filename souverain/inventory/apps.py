from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "souverain.inventory"
    label = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from . import signals, tasks  # noqa: F401  (mapping receivers; the inventory.sync job kind)
