from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "souverain.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects change logging)
