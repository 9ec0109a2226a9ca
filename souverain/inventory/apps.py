from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "souverain.inventory"
    label = "inventory"
    verbose_name = "Inventory"
