"""The poll's answer is built by hand: held here to what its serializer renders, byte for
byte."""

from datetime import UTC, datetime

from rest_framework.renderers import JSONRenderer

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
