from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from analytics import admin_views
from bookings.tickets import desk
from core.routing import route
from evently import views
from waitingroom import admin_views as waitingroom_admin

api = [
    # First: the routes of an on-sale, tried in this order on every request (no other route
    # matches their paths, so the order changes no answer).
    path("", include("waitingroom.urls")),
    path("", include("bookings.urls")),
    route("health", views.HealthView.as_view(), name="health"),
    route("schema", SpectacularAPIView.as_view(), name="schema"),
    route("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    route("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("accounts.urls")),
    path("", include("boxoffice.urls")),
    path("", include("waitlist.urls")),
    path("", include("notifications.urls")),
    path("", include("analytics.urls")),
    path("", include("webhooks.urls")),
    # Last: any other /api path is a problem+json 404 in every mode. (With DEBUG on, Django
    # would answer its HTML page listing every route instead of calling handler404.)
    re_path(r"^.*$", views.api_not_found, name="api-not-found"),
]

urlpatterns = [
    path(
        "admin/dashboard/",
        admin.site.admin_view(admin_views.dashboard),
        name="admin-dashboard",
    ),
    path("admin/checkin/", include(desk.urls())),
    path(
        "admin/waiting-room/<uuid:event_id>/",
        admin.site.admin_view(waitingroom_admin.queue_panel),
        name="admin-event-queue-panel",
    ),
    path("admin/", admin.site.urls),
    # The checkout's pages for a browser, and the payment providers' callbacks.
    path("", include("bookings.payment_urls")),
    path("api/", include(api)),
    # /api without the slash is the API's, so a problem+json 404 like /api/.
    re_path(r"^api$", views.api_not_found),
    # Prometheus' scrape, at the root where it looks; nginx does not pass it to the public.
    route("metrics", views.metrics, name="metrics"),
    path("", views.landing, name="landing"),
    # Last: any other path is the site's HTML 404 in every mode (see views.page_not_found).
    re_path(r"^", views.page_not_found, name="page-not-found"),
]

handler400 = "evently.views.bad_request"
handler403 = "evently.views.permission_denied"
handler404 = "evently.views.not_found"
handler500 = "evently.views.server_error"
