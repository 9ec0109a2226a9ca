from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("inventory/resources", views.ResourceViewSet)
router.register("inventory/sync-states", views.SyncStateViewSet)
router.register("inventory/project-mappings", views.ProjectMappingViewSet)

urlpatterns = router.urls
