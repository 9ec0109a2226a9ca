from rest_framework.routers import DefaultRouter

from . import account

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("tokens", account.ApiTokenViewSet)
router.register("changes", account.ObjectChangeViewSet)

urlpatterns = router.urls
