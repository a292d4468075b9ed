from core.routing import Router
from webhooks import views

router = Router()
router.register("admin/webhooks", views.WebhookEndpointViewSet, basename="admin-webhook")
router.register(
    "admin/webhook-deliveries", views.WebhookDeliveryViewSet, basename="admin-webhook-delivery"
)

urlpatterns = router.urls
