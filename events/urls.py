from core.routing import Router
from events import views

router = Router()
router.register("events", views.EventViewSet, basename="event")

urlpatterns = router.urls
