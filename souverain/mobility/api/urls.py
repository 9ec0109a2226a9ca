from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("saved-workloads", views.SavedWorkloadViewSet)

urlpatterns = [
    path("whatif/", views.WhatIfView.as_view(), name="api-whatif"),
    *router.urls,
]
