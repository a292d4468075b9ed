"""The poll's answer is built by hand and its MACs without `salted_hmac`: both held here to
what they replace, byte for byte."""

import uuid
from datetime import UTC, datetime

from django.utils.crypto import salted_hmac
from rest_framework.renderers import JSONRenderer

from waitingroom import tokens
from waitingroom.serializers import QueuePlaceSerializer
from waitingroom.services import QueueView
from waitingroom.views import place_body

WAITING = QueueView(
    token="EY229PUBRgmXxzEFTDsfAgAAAAAAAAAUSuaXDteX8Y3y_6eCZh7vMA",
    status="waiting",
    position=20,
    estimated_wait_seconds=1200,
    admission_token=None,
    admission_expires_at=None,
    retry_after=27,
    created=False,
)
ADMITTED = QueueView(
    token="FnNT8ukJRruAEp75YAJsCQAAAAAAAAAU5GSgkmnBjMW1Jx8Z-op_-w",
    status="admitted",
    position=0,
    estimated_wait_seconds=0,
    admission_token="FnNT8ukJRruAEp75YAJsCQAAAAAAAAAUAAAAAGsTwmsLrdte3h-5zzZs-zyosPDC",
    admission_expires_at=datetime(2026, 12, 5, 7, 51, 7, tzinfo=UTC),
    retry_after=1,
    created=True,
)


def test_the_place_answer_is_what_its_serializer_renders():
    for view in (WAITING, ADMITTED):
        assert place_body(view) == JSONRenderer().render(QueuePlaceSerializer(view).data)


def test_the_place_answer_has_the_serializers_fields_in_its_order():
    assert list(QueuePlaceSerializer().fields) == [
        "token",
        "status",
        "position",
        "estimated_wait_seconds",
        "admission_token",
        "admission_expires_at",
    ]


def test_a_tokens_mac_is_salted_hmacs_so_tokens_given_before_still_read(settings):
    event_id, user_id = uuid.uuid4(), uuid.uuid4()
    for secret in (settings.SECRET_KEY, "another key that is long enough to be a key 0123456789"):
        settings.SECRET_KEY = secret
        payload = tokens._PLACE.pack(event_id.bytes, 7)
        mac = salted_hmac(
            tokens._QUEUE_SALT, payload + str(user_id).encode(), algorithm="sha256"
        ).digest()[: tokens._MAC_BYTES]
        given_before = tokens._encode(payload + mac)
        assert tokens.place_token(event_id=event_id, number=7, user_id=user_id) == given_before
        assert tokens.read_place_token(given_before, user_id=user_id) == tokens.PlaceRef(
            event_id, 7
        )
