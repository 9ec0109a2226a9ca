"""Static files for the embedded default (`souverain run` is Django's runserver, which serves them only with
DEBUG). Only reached when nothing in front of Django serves ``STATIC_URL``; scale mode puts a web server or
WhiteNoise there. Route-walking tests skip ``static/``."""

from __future__ import annotations

from django.contrib.staticfiles.views import serve
from django.http import HttpRequest, HttpResponse


def serve_static(request: HttpRequest, path: str) -> HttpResponse:
    response = serve(request, path, insecure=True)
    response["Cache-Control"] = "public, max-age=3600"
    return response
