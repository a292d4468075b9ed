"""Payment providers for tests: django-payments' DummyProvider with a refund that the test
decides to refuse, as a real provider does when its API is down or the charge is disputed."""

from payments import PaymentError
from payments.dummy import DummyProvider


class RefusingRefunds(DummyProvider):
    """Refuses the next `refusals` refunds; counts every refund it gave."""

    refusals = 0
    refunded: list = []

    def refund(self, payment, amount=None):
        if RefusingRefunds.refusals:
            RefusingRefunds.refusals -= 1
            raise PaymentError("Refund refused by the test provider.")
        RefusingRefunds.refunded.append(payment.pk)
        return amount or payment.total
