from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "souverain.portal"
    label = "portal"
    verbose_name = "Portal"
