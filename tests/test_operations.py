import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from accounts.models import User

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_server_refuses_to_start_with_debug_off_and_development_key():
    result = run_python("import evently.wsgi", DEBUG="false")
    assert result.returncode != 0
    assert (
        "Refusing to start: DEBUG is off and SECRET_KEY is the built-in development key"
        in result.stderr
    )


def test_server_starts_with_a_real_key_or_in_debug():
    assert run_python("import evently.wsgi", DEBUG="false", SECRET_KEY="s" * 50).returncode == 0
    assert run_python("import evently.wsgi", DEBUG="true").returncode == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "perhaps", "DEBUG must be a boolean"),
        ("THROTTLE_LOGIN", "fast", "THROTTLE_LOGIN must look like"),
        ("JWT_ACCESS_MINUTES", "0", "JWT_ACCESS_MINUTES must be at least 1"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL must be a postgres://"),
        ("CURRENCY", "euro", "CURRENCY must be a three-letter ISO 4217 code"),
    ],
)
def test_malformed_settings_fail_loudly(name, value, message):
    result = run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="evently.settings",
        SECRET_KEY="s" * 50,
        **{name: value},
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


STRIPE_KEYS = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}


def start(code: str = "import django; django.setup()", **env) -> subprocess.CompletedProcess:
    return run_python(code, DJANGO_SETTINGS_MODULE="evently.settings", SECRET_KEY="s" * 50, **env)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"PAYMENT_PROVIDER": "paypal"},
            "PAYMENT_PROVIDER must be none, dummy or stripe, got 'paypal'",
        ),
        (
            {"PAYMENT_PROVIDER": "stripe"},
            "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET",
        ),
        (
            {"PAYMENT_PROVIDER": "stripe", **STRIPE_KEYS, "STRIPE_SECRET_KEY": " "},
            "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY",
        ),
        (
            {"PAYMENT_PROVIDER": "stripe", **STRIPE_KEYS, "STRIPE_WEBHOOK_SECRET": ""},
            "PAYMENT_PROVIDER=stripe needs STRIPE_WEBHOOK_SECRET",
        ),
        (
            {"PAYMENT_PROVIDER": "stripe", **STRIPE_KEYS, "STRIPE_SECRET_KEY": "pk_test_x"},
            "STRIPE_SECRET_KEY must be Stripe's secret key (sk_...) or a restricted key "
            "(rk_...), not the publishable key (pk_...) or another value",
        ),
        (
            {"PAYMENT_PROVIDER": "stripe", **STRIPE_KEYS, "STRIPE_WEBHOOK_SECRET": "we_x"},
            "STRIPE_WEBHOOK_SECRET must be the webhook endpoint's signing secret (whsec_...)",
        ),
        (
            {"PUBLIC_URL": "tickets.example.com"},
            "PUBLIC_URL must be a scheme and host such as https://tickets.example.com, got "
            "'tickets.example.com'",
        ),
        (
            {"PUBLIC_URL": "ftp://tickets.example.com"},
            "PUBLIC_URL must be a scheme and host such as https://tickets.example.com, got "
            "'ftp://tickets.example.com'",
        ),
        (
            {"PUBLIC_URL": "https://tickets.example.com/shop"},
            "PUBLIC_URL must be a scheme and host such as https://tickets.example.com, got "
            "'https://tickets.example.com/shop'",
        ),
        ({"CHECKOUT_HOLD_SECONDS": "0"}, "CHECKOUT_HOLD_SECONDS must be at least 1, got 0"),
        ({"CHECKOUT_HOLD_SECONDS": "-900"}, "CHECKOUT_HOLD_SECONDS must be at least 1, got -900"),
        (
            {"CHECKOUT_HOLD_SECONDS": "15m"},
            "CHECKOUT_HOLD_SECONDS must be an integer, got '15m'",
        ),
        (
            {"CHECKOUT_HOLD_SECONDS": "1.5"},
            "CHECKOUT_HOLD_SECONDS must be an integer, got '1.5'",
        ),
    ],
)
def test_malformed_payment_settings_stop_the_server_naming_the_variable(env, message):
    result = start(**env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"django.core.exceptions.ImproperlyConfigured: {message}"
    )


def test_well_formed_payment_settings_start_and_configure_the_stripe_provider():
    result = start(
        "import django, json; django.setup(); from django.conf import settings as s;"
        "print(json.dumps([s.PAYMENT_PROVIDER, s.PUBLIC_URL, s.CHECKOUT_HOLD_SECONDS,"
        " s.PAYMENT_HOST, s.PAYMENT_USES_SSL, s.PAYMENT_VARIANTS['stripe']]))",
        PAYMENT_PROVIDER=" Stripe ",
        PUBLIC_URL="https://tickets.example.com:8443/",
        CHECKOUT_HOLD_SECONDS="1200",
        STRIPE_SECRET_KEY="rk_live_x",
        STRIPE_WEBHOOK_SECRET="whsec_x",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "stripe",
        "https://tickets.example.com:8443",
        1200,
        "tickets.example.com:8443",
        True,
        [
            "payments.stripe.StripeProviderV3",
            {
                "api_key": "rk_live_x",
                "endpoint_secret": "whsec_x",
                "use_token": True,
                "secure_endpoint": True,
            },
        ],
    ]


def test_health_is_503_problem_when_the_database_does_not_answer():
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/api/health');"
        "print(r.status_code, r['Content-Type'], json.dumps(r.json()))"
    )
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="evently.settings",
        DEBUG="true",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/evently",
        DB_CONNECT_TIMEOUT="2",
        ALLOWED_HOSTS="testserver",
    )
    assert result.returncode == 0, result.stderr
    status, content_type, body = result.stdout.strip().split(" ", 2)
    assert (status, content_type) == ("503", "application/problem+json")
    assert '"code": "database_unavailable"' in body


@pytest.mark.django_db
def test_health_is_ok_with_the_database(anon_api):
    response = anon_api.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_createsuperuser_noinput_makes_an_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_NAME", "Root")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-root-password")
    call_command("createsuperuser", "--noinput", verbosity=0)
    user = User.objects.get(email="root@example.com")
    assert (user.role, user.is_staff, user.is_superuser, user.name) == ("admin", True, True, "Root")
    assert user.check_password("a-long-root-password")


@pytest.mark.django_db
def test_schema_is_valid_and_covers_every_route(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = set(schema["paths"])
    for path in (
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/events",
        "/api/events/{id}",
        "/api/health",
    ):
        assert path in paths or path + "/" in paths, path
    login = schema["paths"].get("/api/auth/login") or schema["paths"]["/api/auth/login/"]
    assert "application/problem+json" in login["post"]["responses"]["401"]["content"]


@pytest.mark.django_db
def test_docs_and_their_assets_are_served_without_a_cdn(anon_api, client):
    docs = anon_api.get("/api/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
    redoc = anon_api.get("/api/redoc")
    assert redoc.status_code == 200
    assert "https://" not in redoc.content.decode()
    assert "http://" not in html
    assert anon_api.get("/api/schema").status_code == 200
