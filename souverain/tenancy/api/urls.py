from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tenants", views.TenantViewSet)
router.register("memberships", views.MembershipViewSet)

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("users/me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
