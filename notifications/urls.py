from core.routing import Router
from notifications import views

router = Router()
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = router.urls
