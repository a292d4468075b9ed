import pytest

from tests.webhooks.receiver import Receiver
from webhooks.services import endpoint_create


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_INSECURE = True  # the receiver is plain http on 127.0.0.1
    settings.WEBHOOKS_RETRY_DELAYS = [0.0] * 7  # the contract's number of retries, no waits
    settings.NOTIFICATION_EMAIL_ON_COMMIT = False


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(db, receiver, admin_user):
    return endpoint_create(actor=admin_user, url=receiver.url, events=["*"])
