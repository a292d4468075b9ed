from bookings import views
from bookings.tickets import views as ticket_views
from core.routing import Router, route

router = Router()
router.register("bookings", views.BookingViewSet, basename="booking")
router.register("tickets", ticket_views.TicketViewSet, basename="ticket")
router.register("waitlist", views.WaitlistOfferViewSet, basename="waitlist")

urlpatterns = [
    route("checkin", ticket_views.CheckInView.as_view(), name="checkin"),
    route(
        r"checkin/events/(?P<pk>[^/.]+)",
        ticket_views.CheckInEventView.as_view(),
        name="checkin-event",
    ),
    *router.urls,
]
