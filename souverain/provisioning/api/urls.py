from rest_framework.routers import DefaultRouter

from . import actions, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("requests", views.ServiceRequestViewSet)
router.register("approvals", views.ApprovalViewSet, basename="approval")
router.register("quotas", views.QuotaViewSet)
router.register("approval-rules", views.ApprovalPolicyViewSet)

urlpatterns = router.urls
urlpatterns += actions.urlpatterns  # day-2 actions on inventoried servers (execution's view)
