"""The Celery application of scale mode.

    celery -A souverain.project.celery worker -l info      # as many as you like, on any machine
    celery -A souverain.project.celery beat -l info        # exactly one: the periodic syncs

Configuration comes from Django's settings under the ``CELERY_`` prefix (broker: ``CELERY_BROKER_URL``);
tasks are found in each app's ``tasks`` module. Without a broker none of this runs: the in-process
worker of ``souverain run`` does the same jobs (see ``souverain.jobs.worker``).
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")

app = Celery("souverain")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
