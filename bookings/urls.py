from bookings import views
from bookings.tickets import views as ticket_views
from evently.routing import Router

router = Router()
router.register("bookings", views.BookingViewSet, basename="booking")
router.register("tickets", ticket_views.TicketViewSet, basename="ticket")

urlpatterns = router.urls
