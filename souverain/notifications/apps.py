from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "souverain.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import receivers, tasks  # noqa: F401 - tasks registers the job kinds

        receivers.connect()
