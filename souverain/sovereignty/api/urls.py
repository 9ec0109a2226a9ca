from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("kb/countries", views.CountryViewSet)
router.register("kb/adequacy", views.AdequacyDecisionViewSet)
router.register("kb/laws", views.LawViewSet)
router.register("kb/schemes", views.CertificationSchemeViewSet)
router.register("kb/releases", views.KnowledgeBaseReleaseViewSet)

urlpatterns = router.urls
