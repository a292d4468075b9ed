"""The checkout's pages for a browser: pay (`payment_url`), the return page, and the
provider's callbacks (django-payments' `process_payment` and `static_process_payment`).

No login: a payment's unguessable token, in the path, is the key, as a payment link from an
e-mail would be. No CSRF token either, for the same reason: no cookie grants anything here.
Every change goes through `bookings.checkout` under the booking's locks, taken before the
provider's code writes the payment, so two reports of one payment, from two processes at
once, confirm it once.
"""

from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from payments import PaymentError, RedirectNeeded
from payments.core import provider_factory
from stripe import SignatureVerificationError

from bookings import checkout, notices
from bookings.models import Payment
from core.exceptions import DomainError, NotFound


def _page(request, template: str, title: str, context: dict, status: int = 200):
    context = {"title": title, "site_header": "Evently", "site_url": None, **context}
    return render(request, f"bookings/checkout/{template}", context, status=status)


def _locked(token: str) -> checkout.LockedPayment:
    try:
        return checkout.lock_payment(token)
    except NotFound as missing:
        raise Http404("No such payment.") from missing


def _return_to(token) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("payment-return", kwargs={"token": token}))


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def pay(request, token):
    """The payment's page: the provider's form (the dummy's pay-or-fail form), or a redirect
    to the provider's own page (Stripe's). Submitted, the booking moves with the payment."""
    token = str(token)
    if request.method == "GET":
        return _show(request, token)
    with transaction.atomic():
        locked = _locked(token)
        if not checkout.payable(locked):
            return _return_to(token)
        try:
            form = locked.payment.get_form(data=request.POST if request.method == "POST" else None)
        except RedirectNeeded as redirect:
            checkout.settle(locked)
            return HttpResponseRedirect(str(redirect))
        except PaymentError as error:
            checkout.settle(locked)
            return _page(
                request,
                "pay.html",
                "Pay",
                {"booking": locked.booking, "payment": locked.payment, "error": str(error)},
                status=502,
            )
        checkout.settle(locked)
    return _page(
        request,
        "pay.html",
        "Pay",
        {"booking": locked.booking, "payment": locked.payment, "form": form},
        status=400,
    )


def _show(request, token: str):
    """The page as first opened: no lock is held while the provider prepares it, which for
    Stripe is a call to its API (the Checkout session it redirects to). Nothing of the booking
    changes here, unless the provider fails the payment: then it is settled under the locks."""
    payment = Payment.objects.select_related("booking__event").filter(token=token).first()
    if payment is None:
        raise Http404("No such payment.")
    booking = payment.booking
    if checkout.is_overdue(booking):
        checkout.expire_now(booking.pk)
        return _return_to(token)
    if booking.status != booking.Status.PENDING_PAYMENT or payment.status not in (
        checkout.OPEN_PAYMENT
    ):
        return _return_to(token)
    status_before = payment.status
    try:
        form = payment.get_form()
    except RedirectNeeded as redirect:
        return HttpResponseRedirect(str(redirect))
    except PaymentError as error:
        checkout.settle_report(token, status_before)
        context = {"booking": booking, "payment": payment, "error": str(error)}
        return _page(request, "pay.html", "Pay", context, status=502)
    return _page(request, "pay.html", "Pay", {"booking": booking, "payment": payment, "form": form})


@never_cache
@require_http_methods(["GET"])
def payment_return(request, token):
    """Where the provider sends the buyer back: what became of the booking."""
    payment = Payment.objects.select_related("booking__event").filter(token=str(token)).first()
    if payment is None:
        raise Http404("No such payment.")
    booking = payment.booking
    return _page(
        request,
        "return.html",
        "Payment",
        {
            "booking": booking,
            "payment": payment,
            "status": booking.shown_status,
            "tickets_url": notices.tickets_url(booking.pk),
        },
    )


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def retry(request, token):
    """Pay again for the same hold, after a payment failed: a new payment, and its page."""
    try:
        payment = checkout.payment_retry(str(token))
    except NotFound as missing:
        raise Http404("No such payment.") from missing
    except DomainError:
        return _return_to(token)
    return HttpResponseRedirect(reverse("payment-page", kwargs={"token": payment.token}))


# What a provider raises for a report it refuses: a signature that fails (Stripe's), a body
# that is not its JSON, a report it cannot read.
REFUSED_REPORT = (PaymentError, SignatureVerificationError, ValueError)


def _refused(request, error: Exception):
    return _page(request, "return.html", "Payment", {"error": str(error)}, status=400)


@csrf_exempt
@never_cache
def process_payment(request, token):
    """A provider's report about one payment (django-payments' `process_payment`). One the
    provider refuses answers 400 with nothing written, as at `static_process_payment`."""
    with transaction.atomic():
        locked = _locked(str(token))
        try:
            provider = provider_factory(locked.payment.variant, locked.payment)
        except ValueError as unknown:
            raise Http404("No such payment.") from unknown
        try:
            response = provider.process_data(locked.payment, request)
        except REFUSED_REPORT as bad:
            transaction.set_rollback(True)
            return _refused(request, bad)
        checkout.settle(locked)
    return response


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def static_process_payment(request, variant):
    """A provider's report at its one address (Stripe's webhook, `static_process_payment`):
    the payment is found from the report, then handled as `process_payment`."""
    try:
        provider = provider_factory(variant)
    except ValueError as unknown:
        raise Http404("No such payment provider.") from unknown
    try:
        token = provider.get_token_from_request(request=request, payment=None)
    except REFUSED_REPORT as bad:
        return _refused(request, bad)
    if not token:
        raise Http404("No such payment.")
    return process_payment(request, token)
