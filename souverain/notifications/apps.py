from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "souverain.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from . import tasks  # noqa: F401 - registers the job kind
