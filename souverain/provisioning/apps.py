from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "souverain.provisioning"
    label = "provisioning"
    verbose_name = "Provisioning"
