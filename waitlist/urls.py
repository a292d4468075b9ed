from core.routing import Router
from waitlist import views

router = Router()
router.register("waitlist", views.WaitlistEntryViewSet, basename="waitlist")

urlpatterns = router.urls
