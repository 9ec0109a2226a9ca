from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "souverain.policy"
    label = "policy"
    verbose_name = "Policy"
