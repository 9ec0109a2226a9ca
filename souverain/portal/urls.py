"""Portal routes. Login and logout keep their global names (``settings.LOGIN_URL = "login"``); the pages are in
the ``portal`` namespace so their names never clash with the API router's (``cloud-detail`` …)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from souverain.core.auth import ThrottledAuthenticationForm
from souverain.inventory.kinds import KINDS

from .views import account, capacity, compliance, estate, inventory, placement, provisioning, sync
from .views.notifications import NotificationsView
from .views.static import serve_static
from .views.tenants import TenantTreeView, TenantView
from .views.whatif import WhatIfView

pages = [
    path("", estate.OverviewView.as_view(), name="overview"),
    path("clouds/<slug:slug>/", estate.CloudView.as_view(), name="cloud"),
    path("regions/<int:pk>/", estate.RegionView.as_view(), name="region"),
    path("capacity/", capacity.CapacityView.as_view(), name="capacity"),
    path("capacity/regions/<int:pk>/", capacity.CapacityRegionView.as_view(), name="capacity-region"),
    path("inventory/", inventory.ResourceListView.as_view(), name="inventory"),
    path("inventory/<int:pk>/", inventory.ResourceView.as_view(), name="resource"),
    # One table per kind of the inventory's registry (/inventory/servers/, /inventory/volumes/, …).
    *[path(f"inventory/{info.listing}/", inventory.KindListView.as_view(kind=info), name=f"inventory-{info.listing}")
      for info in KINDS],
    path("placement/", placement.PlacementView.as_view(), name="placement"),
    path("placement/saved/<int:pk>/delete/", placement.SavedWorkloadDeleteView.as_view(),
         name="saved-workload-delete"),
    path("compliance/", compliance.ComplianceView.as_view(), name="compliance"),
    path("compliance/rules/<str:name>/", compliance.RuleView.as_view(), name="rule"),
    path("compliance/upload/", compliance.PolicyUploadView.as_view(), name="policy-upload"),
    path("sync/", sync.SyncView.as_view(), name="sync"),
    path("sync/jobs/", sync.SyncJobsView.as_view(), name="sync-jobs"),
    path("password/", account.PasswordChangeView.as_view(), name="password"),
    path("tokens/", account.TokensView.as_view(), name="tokens"),
    path("act-as/", account.ActAsView.as_view(), name="act-as"),
    path("history/", account.HistoryView.as_view(), name="history"),
    path("notifications/", NotificationsView.as_view(), name="notifications"),
    path("tenants/", TenantTreeView.as_view(), name="tenants"),
    path("tenants/<slug:slug>/", TenantView.as_view(), name="tenant"),
    path("whatif/", WhatIfView.as_view(), name="whatif"),
    path("catalogue/", provisioning.CatalogueView.as_view(), name="catalogue"),
    path("catalogue/pickers/", provisioning.CataloguePickersView.as_view(), name="catalogue-pickers"),
    path("requests/", provisioning.RequestListView.as_view(), name="requests"),
    path("requests/<int:pk>/", provisioning.RequestView.as_view(), name="request"),
    path("approvals/", provisioning.ApprovalsView.as_view(), name="approvals"),
    path("inventory/<int:pk>/actions/", provisioning.ResourceActionsView.as_view(), name="resource-actions"),
    path("quotas/", provisioning.QuotasView.as_view(), name="quotas"),
]

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True,
                                                authentication_form=ThrottledAuthenticationForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include((pages, "portal"))),
    # Static files when nothing else serves them (`souverain run` without DEBUG): see views/static.py.
    re_path(r"^static/(?P<path>.*)$", serve_static, name="portal-static"),
]
