"""Provisioning: requests gated by placement, quotas and approvals, executed as jobs through the connectors."""
from importlib.util import find_spec

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "souverain.provisioning"
    label = "provisioning"
    verbose_name = "Provisioning"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (the expiry task)

        # The execution module registers the job kind provisioning.execute (services.EXECUTE_JOB).
        if find_spec(f"{self.name}.execution") is not None:
            from . import execution  # noqa: F401
