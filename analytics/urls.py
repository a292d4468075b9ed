from analytics import views
from core.routing import Router, route

router = Router()
router.register("admin/events", views.AdminEventViewSet, basename="admin-event")

urlpatterns = [
    route("admin/analytics/events", views.PopularEventsView.as_view(), name="admin-popular"),
    route("admin/analytics/overview", views.OverviewView.as_view(), name="admin-overview"),
    *router.urls,
]
