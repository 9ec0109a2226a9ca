from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "souverain.policy"
    label = "policy"
    verbose_name = "Policy"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (the policy.compliance job kind and its triggers)
