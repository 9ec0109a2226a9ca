from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from souverain.tenancy.permissions import Access


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


class SchemaView(SpectacularAPIView):
    access = Access(read=frozenset({"operator-admin", "operator-ops", "tenant-admin", "tenant-member", "auditor"}))


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its set-up script served apart (``?script``): no inline script, as the CSP requires."""

    access = SchemaView.access


api_patterns = [
    path("", include("souverain.tenancy.api.urls")),
    path("", include("souverain.tenancy.api.account_urls")),  # API tokens, change history
    path("", include("souverain.estate.api.urls")),
    path("", include("souverain.sovereignty.api.urls")),
    path("", include("souverain.jobs.api.urls")),
    path("", include("souverain.inventory.api.urls")),
    path("", include("souverain.policy.api.urls")),
    path("", include("souverain.audit.api.urls")),
    path("", include("souverain.capacity.api.urls")),
    path("", include("souverain.notifications.api.urls")),
    path("", include("souverain.provisioning.api.urls")),
    path("", include("souverain.mobility.api.urls")),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
]

# Styled pages in the user's language for the portal, JSON under /api/ (souverain/portal/views/errors.py).
handler403 = "souverain.portal.views.errors.permission_denied"
handler404 = "souverain.portal.views.errors.page_not_found"
handler500 = "souverain.portal.views.errors.server_error"

# No Django admin: it would list every API token in clear (rest_framework.authtoken registers them) and bypass the
# Access policies; the portal, the API and the CLI are the ways in (test_route_permissions checks it stays off).
urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/", include(api_patterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("souverain.sso.urls")),  # single sign-on (docs/sso.md)
    path("", include("souverain.portal.urls")),
]
