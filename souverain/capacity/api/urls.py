from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("capacity/regions", views.RegionCapacityViewSet, basename="capacity-region")
router.register("capacity/zones", views.ZoneCapacityViewSet, basename="capacity-zone")
router.register("capacity/history", views.CapacityHistoryViewSet, basename="capacity-history")

urlpatterns = router.urls
