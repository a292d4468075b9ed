from bookings import views
from evently.routing import Router

router = Router()
router.register("bookings", views.BookingViewSet, basename="booking")

urlpatterns = router.urls
