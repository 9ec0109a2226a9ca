from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "souverain.capacity"
    label = "capacity"
    verbose_name = "Capacity"

    def ready(self) -> None:
        from souverain.core import events

        from . import tasks  # the capacity.sync job kind

        events.add_recorder(tasks.after_job)
