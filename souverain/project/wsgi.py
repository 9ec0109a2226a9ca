import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "souverain.project.settings")
application = get_wsgi_application()

from souverain.core.startup import refuse_insecure_start  # noqa: E402  (needs the settings loaded above)

refuse_insecure_start()
