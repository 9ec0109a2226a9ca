from django.apps import AppConfig


class MobilityConfig(AppConfig):
    name = "souverain.mobility"
    label = "mobility"
    verbose_name = "Mobility"
