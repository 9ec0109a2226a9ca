"""The project: settings, URL conf, WSGI/ASGI entry points, and the Celery app of scale mode.

Celery's Django recipe: the project's Celery app becomes celery's *current app* as soon as the settings package
is imported, so the domain hands tasks to ``celery.current_app`` (``jobs.services``) without importing the
project (the layering of ``core/tests/test_layering.py``). It costs nothing measurable: ``django.setup()``
already imports Celery through the apps' ``tasks`` modules, and creating the app opens no connection.
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
