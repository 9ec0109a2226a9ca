from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("policies", views.OperatorPolicyViewSet)
router.register("compliance/violations", views.ViolationViewSet)
router.register("compliance/passes", views.CompliancePassViewSet)

urlpatterns = [
    path("placement/", views.PlacementView.as_view(), name="api-placement"),
    path("policy-packs/", views.BuiltinPacksView.as_view(), name="api-policy-packs"),
    *router.urls,
]
