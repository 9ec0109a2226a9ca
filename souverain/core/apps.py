from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "souverain.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.apps import apps

        from . import auth, signals

        signals.connect_change_logging(apps.get_models())
        auth.connect()
