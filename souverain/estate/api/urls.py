from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("entities", views.LegalEntityViewSet)
router.register("datacenters", views.DatacenterViewSet)
router.register("clouds", views.CloudViewSet)
router.register("regions", views.RegionViewSet)
router.register("certifications", views.CertificationViewSet)

urlpatterns = router.urls
