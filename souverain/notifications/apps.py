from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "souverain.notifications"
    label = "notifications"
    verbose_name = "Notifications"
