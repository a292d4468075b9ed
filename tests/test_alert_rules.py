"""deploy/prometheus/: the alert rules load, and each fires on the series it is for and stays
quiet on the others (alerts_test.yml), checked by Debian's promtool; the scrape config loads."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        message = (
            "promtool is not installed (apt-get install prometheus; scripts/test.sh installs "
            "it when run as root)"
        )
        if os.environ.get("CI"):
            pytest.fail(message + ": CI is set, so the alert rules may not go unchecked")
        pytest.skip(message)
    return path


def run(promtool: str, *args: str) -> str:
    done = subprocess.run(
        [promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_alert_rules_load(promtool):
    assert "SUCCESS: 7 rules found" in run(promtool, "check", "rules", "alerts.yml")


def test_each_alert_fires_on_its_series_and_stays_quiet_on_the_others(promtool):
    assert "SUCCESS" in run(promtool, "test", "rules", "alerts_test.yml")


def test_every_rule_has_a_firing_test_and_a_summary_and_a_runbook_link():
    import yaml

    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    fired = {
        check["alertname"]
        for test in tests
        for check in test["alert_rule_test"]
        if check["exp_alerts"]
    }
    operations = (PROMETHEUS.parent.parent / "docs" / "operations.md").read_text()
    for rule in rules:
        name = rule["alert"]
        assert name in fired, f"{name} is never made to fire"
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["runbook_url"] == f"docs/operations.md#{name.lower()}"
        assert f"### {name}" in operations, f"docs/operations.md has no entry for {name}"


def test_the_scrape_config_loads(promtool):
    assert "SUCCESS" in run(promtool, "check", "config", "--syntax-only", "prometheus.yml")
