from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "souverain.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from . import config, signals

        config.check()  # bad mapping rules stop the start, naming the rule and the field
        signals.connect()
