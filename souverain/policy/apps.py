from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "souverain.policy"
    label = "policy"
    verbose_name = "Policy"

    def ready(self) -> None:
        from souverain.tenancy.services import use_defaults_merge

        from . import tasks  # noqa: F401  (the policy.compliance job kind and its triggers)
        from .workloads import merge

        use_defaults_merge(merge)  # tenancy refuses a child tenant whose defaults loosen its ancestors'
