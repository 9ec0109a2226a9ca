from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("notifications/subscriptions", views.SubscriptionViewSet, basename="notification-subscription")
router.register("notifications/notifications", views.NotificationViewSet, basename="notification-notification")
router.register("notifications/deliveries", views.DeliveryViewSet, basename="notification-delivery")

urlpatterns = router.urls
