"""E-mail backends for tests: one whose server is down."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class BrokenServerBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
