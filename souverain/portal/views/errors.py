"""Error pages: 403, 404 and 500 in the portal's style and the user's language (``project/urls.py`` installs them).

403 and 404 extend the portal's base page (navigation, language switch): the request got as far as a view, so
the session and the database answer. 500 is the page of last resort: it renders a stand-alone template with no
context processor, no database query and no template tag that could fail again, still translated (the locale
middleware ran before the view failed) and styled by the same static style sheet.

Under ``/api/`` the API's clients get JSON, as DRF answers inside its views, never an HTML page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def _api_error(request: HttpRequest, status: int, detail: str) -> JsonResponse | None:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": detail}, status=status)
    return None


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    api = _api_error(request, 403, _("You do not have permission to perform this action."))
    if api is not None:
        return api
    body = loader.render_to_string("portal/errors/403.html", request=request)
    return HttpResponse(body, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    api = _api_error(request, 404, _("Not found."))
    if api is not None:
        return api
    body = loader.render_to_string("portal/errors/404.html", {"path": request.path}, request=request)
    return HttpResponse(body, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    api = _api_error(request, 500, _("Server error: the administrator can find the details in the server's log."))
    if api is not None:
        return api
    # No request: no context processors, so nothing here touches the session or the database.
    body = loader.render_to_string("portal/errors/500.html")
    return HttpResponse(body, status=500)
