from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, AuthenticationFailed, NotAuthenticated
from rest_framework.response import Response

from accounts.permissions import ClaimsOnly, IsActiveAccount, current_account
from bookings import checkout, selectors, services
from bookings.models import Booking
from bookings.serializers import (
    BookingCreateInputSerializer,
    BookingOutcomeSerializer,
    BookingSerializer,
    MyBookingSerializer,
    MyBookingsQuerySerializer,
    MyBookingsSerializer,
    PaymentSerializer,
    booking_body,
)
from bookings.tickets.selectors import booking_tickets
from bookings.tickets.serializers import TicketSerializer
from core.exceptions import AccountClosed
from core.idempotency import idempotent
from core.schema import IDEMPOTENCY_KEY, problems
from waitingroom.admission import admission_required
from waitlist.models import WaitlistEntry
from waitlist.selectors import waitlist_entries_of
from waitlist.serializers import WaitlistEntrySerializer

_CANCEL_SCHEMA = {
    "request": None,
    "responses": {200: BookingSerializer, **problems(401, 404, 409)},
    "description": "Cancel a booking (owner or admin). Its seats go to the waitlist first.",
}


class BookingViewSet(viewsets.GenericViewSet):
    serializer_class = BookingSerializer
    queryset = Booking.objects.none()  # reads go through bookings.selectors

    def get_permissions(self):
        # A booking reads the account's state in its own first query (bookings.services).
        return [ClaimsOnly()] if self.action == "create" else [IsActiveAccount()]

    def handle_exception(self, exc):
        # A closed account's token is refused before anything else. A booking checks the
        # account inside its own statements (and on the way to an unknown event's 404, and
        # before an Idempotency-Key answers); a refusal of the request itself (a bad body or
        # key, a throttle) comes before those, so it checks the account here, on the refusal's
        # path only.
        if (
            self.action == "create"
            and isinstance(exc, APIException)
            and not isinstance(exc, NotAuthenticated | AuthenticationFailed)
        ):
            try:
                current_account(self.request)
            except AccountClosed as closed:
                exc = closed
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="bookings_create",
        summary="Book seats, or join the waitlist",
        request=BookingCreateInputSerializer,
        responses={
            201: OpenApiResponse(
                BookingOutcomeSerializer,
                "Booked (`booked`), or, with a payment provider and a total above zero, "
                "held while the buyer pays (`pending_payment`, with `payment`).",
            ),
            202: OpenApiResponse(
                BookingOutcomeSerializer, "Sold out, joined the waitlist: `waitlisted`."
            ),
            **problems(400, 401, 404, 409, 422, 429),
        },
        parameters=[IDEMPOTENCY_KEY],
        description="Book seats. When there are not enough free seats the caller joins the "
        "waitlist (202), unless `join_waitlist` is false (409 `sold_out`).",
    )
    @admission_required  # before the key's replay: a replay is no way past the queue
    @idempotent
    def create(self, request, check_queue=False):
        data = BookingCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.booking_create(
            user=request.user, check_queue=check_queue, **data.validated_data
        )
        if outcome.booking:
            body = {"result": outcome.result, "booking": booking_body(outcome.booking)}
            if outcome.result == "pending_payment":
                body["payment"] = PaymentSerializer(outcome.booking.payment).data
            return Response(body, status=status.HTTP_201_CREATED)
        entry = outcome.waitlist_entry  # with its position, as the transaction wrote it
        body = {"result": outcome.result, "waitlist_entry": WaitlistEntrySerializer(entry).data}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        operation_id="bookings_retrieve",
        summary="Show a booking",
        responses={200: BookingSerializer, **problems(401, 404)},
    )
    def retrieve(self, request, pk=None):
        booking = selectors.booking_get(booking_id=pk, user=request.user)
        if checkout.is_overdue(booking):
            # Read after its hold ended: expired now, its seats passed on, and answered from
            # what that transaction wrote.
            booking = checkout.expire_now(booking.pk)
        return Response(BookingSerializer(booking).data)

    @extend_schema(
        methods=["GET"],
        operation_id="bookings_payment",
        summary="Show a booking's payment",
        request=None,
        responses={200: PaymentSerializer, **problems(401, 404)},
        description="The booking's newest payment (owner or admin); 404 for a booking that "
        "has none (confirmed when made).",
    )
    @extend_schema(
        methods=["POST"],
        operation_id="bookings_payment_restart",
        summary="Pay again for a checkout",
        request=None,
        responses={201: PaymentSerializer, **problems(401, 404, 409)},
        description="A new payment for a pending booking's hold (the last one failed); the "
        "hold keeps its end. Confirmed: 409 already_confirmed; cancelled: 409 "
        "already_cancelled; hold ended: 409 booking_expired.",
    )
    @action(detail=True, methods=["get", "post"])
    def payment(self, request, pk=None):
        if request.method == "POST":
            payment = checkout.payment_restart(booking_id=pk, user=request.user)
            return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)
        payment = checkout.latest_payment(booking_id=pk, user=request.user)
        return Response(PaymentSerializer(payment).data)

    @extend_schema(
        methods=["POST"],
        operation_id="bookings_cancel",
        summary="Cancel a booking",
        **_CANCEL_SCHEMA,
    )
    @extend_schema(
        methods=["PUT"],
        operation_id="bookings_cancel_put",
        summary="Cancel a booking (PUT, as POST)",
        **_CANCEL_SCHEMA,
    )
    @action(detail=True, methods=["post", "put"])
    def cancel(self, request, pk=None):
        # Answered from what the cancel's transaction wrote: no read after the commit, so a
        # database that goes away just after it cannot turn a done cancel into a 503.
        booking = services.booking_cancel(booking_id=pk, actor=request.user)
        return Response(BookingSerializer(booking).data)

    @extend_schema(
        operation_id="bookings_my",
        summary="List my bookings",
        parameters=[MyBookingsQuerySerializer],
        responses={200: MyBookingsSerializer, **problems(400, 401)},
        description="The caller's bookings, newest first, with their active waitlist entries.",
    )
    @action(detail=False, methods=["get"])
    def my(self, request):
        query = MyBookingsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.bookings_of(user=request.user, **query.validated_data)
        )
        waitlist = waitlist_entries_of(user=request.user, active_only=True)
        return self.paginator.get_paginated_response(
            MyBookingSerializer(page, many=True).data,
            waitlist=WaitlistEntrySerializer(waitlist, many=True).data,
        )

    @extend_schema(
        operation_id="bookings_tickets",
        summary="List a booking's tickets",
        responses={200: TicketSerializer(many=True), **problems(400, 401, 404)},
        description="The booking's tickets, one per seat (owner or admin); `void` for a "
        "cancelled booking. Each `code` is what its QR code (`/api/tickets/{id}/qr.svg`) holds.",
    )
    @action(detail=True, methods=["get"])
    def tickets(self, request, pk=None):
        page = self.paginate_queryset(booking_tickets(booking_id=pk, user=request.user))
        return self.get_paginated_response(TicketSerializer(page, many=True).data)


class WaitlistOfferViewSet(viewsets.GenericViewSet):
    """Accepting a waitlist offer, at /waitlist/{id}/accept: the held seats become a booking,
    so it is a booking's route, beside the waitlist's own (waitlist.views)."""

    serializer_class = BookingSerializer
    queryset = WaitlistEntry.objects.none()  # the service reads the entry

    @extend_schema(
        operation_id="waitlist_accept",
        summary="Accept a waitlist offer",
        request=None,
        responses={
            201: inline_serializer(
                "WaitlistAcceptResult",
                {
                    "result": serializers.ChoiceField(
                        choices=["pending_payment"],
                        required=False,
                        help_text="Only for a checkout: the held seats wait for payment.",
                    ),
                    "booking": BookingSerializer(),
                    "payment": PaymentSerializer(
                        required=False, help_text="With `pending_payment`: the payment."
                    ),
                },
            ),
            **problems(400, 401, 404, 409, 422),
        },
        parameters=[IDEMPOTENCY_KEY],
        description="Accept an open offer: the held seats become a confirmed booking, or on "
        "a priced event with a payment provider a checkout holding them (`pending_payment`). "
        "Past `offer_expires_at` the offer is expired on the spot (409 `offer_expired`).",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request, pk=None):
        booking = services.waitlist_offer_accept(entry_id=pk, user=request.user)
        body = {"booking": BookingSerializer(booking).data}
        if booking.status == booking.Status.PENDING_PAYMENT:
            body = {
                "result": "pending_payment",
                **body,
                "payment": PaymentSerializer(booking.payment).data,
            }
        return Response(body, status=status.HTTP_201_CREATED)
