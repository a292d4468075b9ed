"""Throttles whose rates are read from settings on each use.

DRF's own classes copy the rates when first imported; reading them at call time lets the
environment (and tests) change a rate without re-importing anything. The counters live in the
`default` cache: Redis or the database, shared by every worker.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class _RateFromSettings:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_RateFromSettings, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_RateFromSettings, throttling.UserRateThrottle):
    pass


class LoginRateThrottle(_RateFromSettings, throttling.SimpleRateThrottle):
    """Per client address, signed in or not: guessing passwords costs the same from any account."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
