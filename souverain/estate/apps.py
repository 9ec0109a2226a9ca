from django.apps import AppConfig


class EstateConfig(AppConfig):
    name = "souverain.estate"
    label = "estate"
    verbose_name = "Estate"
