from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "souverain.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
