"""The checkout's browser pages and the payment providers' callbacks, at the site's root:
a provider's dashboard is set up with these addresses (docs/operations.md)."""

from django.urls import path

from bookings import payment_pages

urlpatterns = [
    path("checkout/<uuid:token>/", payment_pages.pay, name="payment-page"),
    path("checkout/<uuid:token>/return/", payment_pages.payment_return, name="payment-return"),
    path("checkout/<uuid:token>/retry/", payment_pages.retry, name="payment-retry"),
    # django-payments' names, which its providers reverse.
    path("payments/process/<uuid:token>/", payment_pages.process_payment, name="process_payment"),
    path(
        "payments/process/<slug:variant>/",
        payment_pages.static_process_payment,
        name="static_process_payment",
    ),
]
