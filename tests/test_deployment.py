"""The deployment files: docker-compose.yml, the Dockerfile, gunicorn.conf.py, `make run-prod`.

No container engine runs where the suite does, so these read the files and hold them to the
commands the rest of the suite runs for real: the gunicorn command of tests/server.py (used by
test_scale_out), the nginx template test_proxy runs in front of it, `manage.py migrate`, and the
management commands' own argument parsers.
"""

import copy
import json
import re
import runpy
import secrets
import shlex
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import get_commands, load_command_class

from tests.server import (
    GUNICORN_COMMAND,
    NGINX_TEMPLATE,
    NGINX_TEMPLATE_VARIABLE,
    e2e_database_url,
    free_port,
    gunicorn,
)

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "mailer", "webhooks")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def documented_variables() -> set[str]:
    """Every variable .env.example lists, set or commented out."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.M))


def command_line(command) -> str:
    return command if isinstance(command, str) else shlex.join(command)


def parse_management_command(argv: list[str]):
    """Parse `python manage.py <name> <args>` with that command's own parser."""
    assert argv[:2] == ["python", "manage.py"], argv
    name = argv[2]
    command = load_command_class(get_commands()[name], name)
    return name, command.create_parser("manage.py", name).parse_args(argv[3:])


# --- docker-compose.yml ---------------------------------------------------------------------------


# The Compose Specification's JSON schema, vendored so the suite downloads nothing: a copy of
# compose-spec's schema/compose-spec.json as the npm package dclint 3.1.0 ships it
# (schemas/compose.schema.json), sha256
# 46b7d35f19dd93a05f8fea530291bf84d881c1791ec167ecf0e6fb94e639d496.
COMPOSE_SPEC = ROOT / "deploy" / "compose-spec.json"


def compose_spec_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SPEC.read_text()))
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_follows_the_compose_specification(compose):
    assert compose_spec_errors(compose) == []


@pytest.mark.parametrize(
    "path, key",
    [
        ((), "servces"),
        (("services", "web"), "helthcheck"),
        (("services", "nginx", "depends_on", "web"), "restat"),
    ],
)
def test_an_unknown_compose_key_fails_the_check(compose, path, key):
    broken = copy.deepcopy(compose)
    place = broken
    for step in path:
        place = place[step]
    place[key] = True
    errors = compose_spec_errors(broken)
    assert errors, f"{key} at {path} passed the schema"


def test_compose_runs_the_database_the_cache_the_api_behind_nginx_and_the_workers(compose):
    assert set(compose["services"]) == {
        "db",
        "redis",
        "web",
        "nginx",
        "worker",
        "mailer",
        "webhooks",
        "prometheus",
    }


def test_prometheus_scrapes_every_web_container_with_the_token_and_loads_the_rules(compose):
    prometheus = compose["services"]["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    mounts = {
        target: (ROOT / source).resolve()
        for source, target, *_ in (mount.split(":") for mount in prometheus["volumes"])
        if source.startswith("./")
    }
    config_path = mounts["/etc/prometheus/prometheus.yml"]
    assert config_path == ROOT / "deploy" / "prometheus" / "prometheus.yml"
    config = yaml.safe_load(config_path.read_text())
    # The rules file it names is the one mounted, the one promtool tests.
    [rules] = config["rule_files"]
    assert mounts[rules] == ROOT / "deploy" / "prometheus" / "alerts.yml"
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    # Every web container, on the port gunicorn binds, never through nginx.
    [discovery] = job["dns_sd_configs"]
    web_port = int(compose["services"]["web"]["environment"]["GUNICORN_BIND"].split(":")[1])
    assert (discovery["names"], discovery["type"], discovery["port"]) == (["web"], "A", web_port)
    # The token the app checks, handed to Prometheus as a secret file.
    assert job["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    assert prometheus["secrets"] == ["metrics_token"]
    assert compose["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}
    for name in APP_SERVICES:
        token = compose["services"][name]["environment"]["METRICS_TOKEN"]
        assert token == "${METRICS_TOKEN:?set METRICS_TOKEN}", name
    # Its UI is for the operator's machine only.
    assert prometheus["ports"] == ["127.0.0.1:${PROMETHEUS_PORT:-9090}:9090"]


def test_the_database_keeps_its_data_in_a_volume_and_reports_its_health(compose):
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:15")
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in compose["volumes"]
    assert "pg_isready" in command_line(db["healthcheck"]["test"])
    # The app services start only once PostgreSQL answers.
    for name in APP_SERVICES:
        assert compose["services"][name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_app_services_are_one_image_configured_only_by_the_environment(compose):
    documented = documented_variables()
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "." and service["image"] == "evently:latest", name
        # No configuration files: no mounts, no env files, no configs or secrets files.
        assert not {"volumes", "env_file", "configs", "secrets"} & set(service), name
        environment = service["environment"]
        assert isinstance(environment, dict), name
        assert set(environment) <= documented, set(environment) - documented
        # Secrets come from the operator; the file holds none.
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]
        assert environment["DEBUG"] == "false"
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        # E-mail leaves through the mailer, never from a request.
        assert environment["NOTIFICATION_EMAIL_ON_COMMIT"] == "false"
    assert "redis" in compose["services"]


def test_web_migrates_then_serves_the_production_gunicorn_command_on_8080(compose):
    web = compose["services"]["web"]
    assert web["command"][:2] == ["sh", "-c"]
    migrate, serve = web["command"][2].split(" && ")
    assert migrate == "python manage.py migrate --noinput"
    assert serve == "exec " + shlex.join(GUNICORN_COMMAND)
    # On the compose network, and nowhere else: no port of web is published.
    assert web["environment"]["GUNICORN_BIND"] == "0.0.0.0:8080"
    assert "ports" not in web
    assert web["expose"] == ["8080"]
    assert web["healthcheck"]["test"] == ["CMD", "python", "-m", "evently.healthcheck"]
    # Long enough for gunicorn's graceful shutdown to finish the requests in flight.
    assert int(web["stop_grace_period"].rstrip("s")) > 30


COMPOSE_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """A compose value with its ${VAR}, ${VAR:-default} and ${VAR:?error} filled in, as
    Compose does from the shell and .env."""

    def substitute(match):
        name, operator, argument = match.groups()
        if variables.get(name):
            return variables[name]
        if operator == ":?":
            raise KeyError(f"{name}: {argument}")
        return argument if operator == ":-" else ""

    return COMPOSE_VARIABLE.sub(substitute, value)


def readme_operating_example() -> dict[str, str]:
    """The variables the README's "Operating it" section exports."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Operating it", 1)[1]
    line = re.search(r"^export (.*)$", section, re.M).group(1)
    return dict(item.split("=", 1) for item in shlex.split(line))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_web_turns_healthy_with_the_readmes_public_host_name(compose):
    """The compose health command, run against the production server configured as the README
    shows: ALLOWED_HOSTS names only the public host, which 127.0.0.1 is not."""
    example = readme_operating_example()
    assert example["ALLOWED_HOSTS"] == "tickets.example.com"
    web = compose["services"]["web"]
    shell = {
        "ALLOWED_HOSTS": example["ALLOWED_HOSTS"],
        "SECRET_KEY": secrets.token_urlsafe(50),
        "POSTGRES_PASSWORD": "unused",
        "METRICS_TOKEN": secrets.token_urlsafe(32),
    }
    environment = {
        name: interpolate(str(value), shell)
        for name, value in web["environment"].items()
        if value is not None  # `NAME:` with no value passes the shell's on, when it is set
    }
    # Only the network differs: the suite's database, no Redis, a free port of this machine.
    port = free_port()
    environment.update(
        DATABASE_URL=e2e_database_url(),
        REDIS_URL="",
        GUNICORN_BIND=environment["GUNICORN_BIND"].replace(":8080", f":{port}"),
    )
    test = web["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python", test
    probe = [sys.executable, *test[2:]]
    with gunicorn(production=True, env=environment, host=example["ALLOWED_HOSTS"]) as (base, _):
        # The premise: a request for the loopback address is refused under this configuration.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/api/health", timeout=5)
        assert refused.value.code == 400
        probe_environment = {**environment, "GUNICORN_BIND": f"0.0.0.0:{base.rsplit(':', 1)[1]}"}
        done = subprocess.run(
            probe, cwd=ROOT, env=probe_environment, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
    # And it tells a server that does not answer: unhealthy.
    done = subprocess.run(
        probe, cwd=ROOT, env=probe_environment, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1
    assert "unhealthy" in done.stderr


def test_only_nginx_publishes_a_port(compose):
    # gunicorn trusts one proxy hop's X-Forwarded-For (NUM_PROXIES=1): a client that reached it
    # directly could name any address it likes, and so escape the per-address throttles.
    published = {name for name, service in compose["services"].items() if "ports" in service}
    assert published == {"nginx", "prometheus"}
    # Prometheus' UI, on the host's loopback only, reaches no app server.
    assert all(port.startswith("127.0.0.1:") for port in compose["services"]["prometheus"]["ports"])


def test_nginx_fronts_web_with_the_template_the_proxy_test_runs(compose):
    nginx = compose["services"]["nginx"]
    assert nginx["image"].startswith("nginx:")
    # The official image renders templates/*.template into conf.d/; default.conf replaces its
    # own welcome server.
    [mount] = nginx["volumes"]
    source, target, mode = mount.split(":")
    assert (ROOT / source).resolve() == NGINX_TEMPLATE
    assert (target, mode) == ("/etc/nginx/templates/default.conf.template", "ro")
    # The one published port, where web's used to be.
    assert nginx["ports"] == ["${WEB_PORT:-8080}:8080"]
    assert nginx["depends_on"]["web"]["condition"] == "service_healthy"
    # Every variable of the template has a value, and only those are substituted.
    environment = nginx["environment"]
    used = set(NGINX_TEMPLATE_VARIABLE.findall(NGINX_TEMPLATE.read_text()))
    assert used == {name for name in environment if name.startswith("EVENTLY_")}
    assert environment["NGINX_ENVSUBST_FILTER"] == "EVENTLY_"
    assert environment["EVENTLY_LISTEN"] == "8080"
    web = compose["services"]["web"]
    assert (
        environment["EVENTLY_UPSTREAM"]
        == "web:" + web["environment"]["GUNICORN_BIND"].split(":")[1]
    )
    # The same body limit as the app's, from the same variable.
    assert environment["EVENTLY_MAX_REQUEST_BYTES"] == web["environment"]["MAX_REQUEST_BYTES"]
    # The app trusts exactly nginx's hop of X-Forwarded-For.
    for name in APP_SERVICES:
        assert compose["services"][name]["environment"]["NUM_PROXIES"] == "1", name


def test_the_worker_mailer_and_webhook_sender_run_the_loop_commands_with_valid_arguments(
    compose,
):
    name, options = parse_management_command(compose["services"]["worker"]["command"])
    assert (name, options.loop, options.interval) == ("expire_waitlist_offers", True, 30.0)
    name, options = parse_management_command(compose["services"]["mailer"]["command"])
    assert (name, options.loop, options.interval) == ("send_notification_emails", True, 10.0)
    name, options = parse_management_command(compose["services"]["webhooks"]["command"])
    assert (name, options.loop, options.interval, options.batch) == (
        "deliver_webhooks",
        True,
        1.0,
        20,
    )
    # They need the migrated schema: they wait for web, which migrates before it is healthy.
    for service in ("worker", "mailer", "webhooks"):
        depends_on = compose["services"][service]["depends_on"]
        assert depends_on["web"]["condition"] == "service_healthy"


# --- Dockerfile -----------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_the_image_is_slim_python_and_serves_with_gunicorn_as_an_unprivileged_user():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert json.loads(dict(instructions)["CMD"]) == GUNICORN_COMMAND
    # The last USER wins: after it only metadata, so the server never runs as root.
    user_at = len(keywords) - 1 - keywords[::-1].index("USER")
    assert instructions[user_at][1] not in {"root", "0"}
    assert set(keywords[user_at:]) <= {"USER", "EXPOSE", "STOPSIGNAL", "CMD"}
    assert ("EXPOSE", "8080") in instructions
    runs = [argument for keyword, argument in instructions if keyword == "RUN"]
    assert any("manage.py collectstatic --noinput" in run for run in runs)
    # No secret is baked into the image.
    assert not any(
        "SECRET_KEY" in argument for keyword, argument in instructions if keyword == "ENV"
    )


def test_the_build_context_leaves_out_local_state_and_secrets():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "db.sqlite3*", "staticfiles", "tests"} <= ignored


# --- gunicorn.conf.py and make run-prod -----------------------------------------------------------


def load_gunicorn_config(monkeypatch, **env) -> dict:
    for name in (
        "WEB_CONCURRENCY",
        "PORT",
        "GUNICORN_BIND",
        "GUNICORN_ACCESS_LOG",
        "GUNICORN_BACKLOG",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_workers_follow_the_core_count_unless_set(monkeypatch):
    import multiprocessing

    config = load_gunicorn_config(monkeypatch)
    assert config["workers"] == multiprocessing.cpu_count() + 1
    assert (config["timeout"], config["graceful_timeout"]) == (30, 30)
    config = load_gunicorn_config(monkeypatch, WEB_CONCURRENCY="3")
    assert config["workers"] == 3


@pytest.mark.django_db
def test_gunicorn_listens_with_a_queue_deep_enough_for_an_on_sale_crowd(monkeypatch):
    """A crowd connecting at once waits in the listen queue rather than losing its SYNs."""
    assert load_gunicorn_config(monkeypatch)["backlog"] == 4096
    assert load_gunicorn_config(monkeypatch, GUNICORN_BACKLOG="512")["backlog"] == 512
    monkeypatch.delenv("GUNICORN_BACKLOG")  # the server below starts with the default
    with gunicorn(production=True) as (base, _):
        port = base.rsplit(":", 1)[1]
        listening = subprocess.run(
            ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout.split()
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    assert int(listening[2]) == min(4096, somaxconn)  # ss: a listener's Send-Q is its backlog


def test_gunicorn_gives_workers_a_metrics_directory_emptied_at_start_with_metrics_on(
    monkeypatch, tmp_path
):
    import os

    # Metrics off: no directory.
    load_gunicorn_config(monkeypatch, METRICS_TOKEN="", PROMETHEUS_MULTIPROC_DIR="")
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == ""
    # On, with none given: one of the server's own, before the app is imported.
    config = load_gunicorn_config(monkeypatch, METRICS_TOKEN="t", PROMETHEUS_MULTIPROC_DIR="")
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir() and made.name.startswith("evently-metrics-")
    made.rmdir()
    # Given one: the master empties it of a previous run's value files when it starts.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"old counts")
    (tmp_path / "histogram_4242.db").write_bytes(b"old counts")
    (tmp_path / "README").write_text("not ours")
    config["on_starting"](None)
    assert [path.name for path in tmp_path.iterdir()] == ["README"]


def test_gunicorn_listens_on_loopback_only_unless_given_a_bind_address(monkeypatch):
    # Sync workers must only be reached through the proxy: a bare run is not on the network.
    assert load_gunicorn_config(monkeypatch)["bind"] == "127.0.0.1:8080"
    assert load_gunicorn_config(monkeypatch, PORT="9000")["bind"] == "127.0.0.1:9000"
    config = load_gunicorn_config(monkeypatch, PORT="9000", GUNICORN_BIND="0.0.0.0:8080")
    assert config["bind"] == "0.0.0.0:8080"


def test_the_access_log_is_one_json_object_per_request_whatever_the_client_sends(monkeypatch):
    config = load_gunicorn_config(monkeypatch)
    atoms = config["JsonAtoms"](
        {
            "t": "[24/Nov/2026:10:00:00 +0000]",
            "h": "10.0.0.1",
            "m": "GET",
            "U": '/api/events/"quoted"\\path',
            "q": "search=a%22b",
            "s": "200",
            "B": None,  # nothing sent
            "D": 1234,
            "a": 'agent "with quotes" and \\ backslash\n',
        }
    )
    line = json.loads(config["access_log_format"] % atoms)
    assert line["path"] == '/api/events/"quoted"\\path'
    assert line["user_agent"] == 'agent "with quotes" and \\ backslash\n'
    assert (line["status"], line["bytes"], line["request_id"]) == (200, None, "-")


def test_make_run_prod_migrates_and_runs_the_production_gunicorn_command():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run-prod:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "no run-prod target"
    lines = [line.strip() for line in recipe.group(1).splitlines()]
    assert "manage.py migrate --noinput" in lines[0]
    assert any("manage.py collectstatic --noinput" in line for line in lines)
    assert lines[-1].endswith("/" + shlex.join(GUNICORN_COMMAND))
    assert re.search(r"^\.PHONY:.*\brun-prod\b", makefile, re.M)
