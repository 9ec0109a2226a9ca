from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "souverain.capacity"
    label = "capacity"
    verbose_name = "Capacity"
