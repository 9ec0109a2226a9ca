from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "souverain.jobs"
    label = "jobs"
    verbose_name = "Jobs"
