"""The framework floor: DRF and simplejwt, no middleware.

simplejwt imports django.contrib.auth's models, which need auth and contenttypes installed;
no table of theirs is read (the user comes from the token's claims).
"""

import os

from bench.floors.base_settings import *  # noqa: F403
from bench.floors.base_settings import SECRET_KEY

ROOT_URLCONF = "bench.floors.framework"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework_simplejwt",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [],
}
# Reads the access tokens Evently signs (simplejwt's defaults otherwise: HS256, Bearer, user_id).
SIMPLE_JWT = {"SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", "").strip() or SECRET_KEY}
