from boxoffice import views
from core.routing import Router

router = Router()
router.register("events", views.EventViewSet, basename="event")
router.register("ticket-types", views.TicketTypeViewSet, basename="ticket-type")
router.register("admin/events", views.AdminEventMessageViewSet, basename="admin-event")
router.register("admin/vouchers", views.VoucherViewSet, basename="admin-voucher")

urlpatterns = router.urls
