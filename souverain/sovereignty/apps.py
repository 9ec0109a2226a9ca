from django.apps import AppConfig


class SovereigntyConfig(AppConfig):
    name = "souverain.sovereignty"
    label = "sovereignty"
    verbose_name = "Sovereignty knowledge base"
