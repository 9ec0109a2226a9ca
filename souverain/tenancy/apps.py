from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "souverain.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
