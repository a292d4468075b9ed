from core.routing import Router
from events import views

router = Router()
router.register("events", views.EventViewSet, basename="event")
router.register("ticket-types", views.TicketTypeViewSet, basename="ticket-type")

urlpatterns = router.urls
