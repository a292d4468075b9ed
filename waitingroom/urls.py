from core.routing import route
from waitingroom import views

urlpatterns = [
    route(r"events/(?P<event_id>[^/.]+)/queue", views.QueueJoinView.as_view(), name="queue-join"),
    route(r"queue/(?P<token>[A-Za-z0-9_-]+)", views.QueuePlaceView.as_view(), name="queue-place"),
    route(
        r"admin/events/(?P<event_id>[^/.]+)/queue",
        views.AdminQueueView.as_view(),
        name="admin-event-queue",
    ),
]
