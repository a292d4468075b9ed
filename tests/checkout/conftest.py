import re

import pytest

from tests.payment_providers import RefusingRefunds

PAID = {"status": "confirmed", "fraud_status": "accept", "gateway_response": "3ds-disabled"}
REJECTED = {"status": "rejected", "fraud_status": "accept", "gateway_response": "3ds-disabled"}


@pytest.fixture(autouse=True)
def dummy_payments(settings):
    """Checkouts on, through a DummyProvider whose refunds a test may refuse."""
    settings.PAYMENT_VARIANTS = {
        **settings.PAYMENT_VARIANTS,
        "test": ("tests.payment_providers.RefusingRefunds", {}),
    }
    settings.PAYMENT_PROVIDER = "test"
    settings.PUBLIC_URL = "https://tickets.example.com"
    RefusingRefunds.refusals = 0
    RefusingRefunds.refunded = []
    return RefusingRefunds


def page_path(payment_url: str) -> str:
    """The path of a payment_url, to open with the test client."""
    match = re.fullmatch(r"https://tickets\.example\.com(/checkout/[0-9a-f-]{36}/)", payment_url)
    assert match, payment_url
    return match.group(1)
