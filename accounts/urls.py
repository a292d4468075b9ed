from accounts import views
from core.routing import route

urlpatterns = [
    route("auth/register", views.RegisterView.as_view(), name="auth-register"),
    route("auth/login", views.LoginView.as_view(), name="auth-login"),
    route("auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    route("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    route("auth/me", views.MeView.as_view(), name="auth-me"),
]
