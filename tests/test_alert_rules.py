"""deploy/prometheus/ and deploy/grafana/: the alert rules load, and each fires on the series
it is for and stays quiet on the others (alerts_test.yml), checked by Debian's promtool; the
scrape config loads; the rules and the dashboard query only metrics Evently defines."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

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


def defined_metrics() -> set[str]:
    """Every series name core/metrics.py can expose, histograms' and counters' included."""
    source = (PROMETHEUS.parent.parent / "core" / "metrics.py").read_text()
    names = set()
    for name in re.findall(r'"(evently_[a-z_]+)"', source):
        names |= {name, f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def test_the_rules_and_the_dashboard_query_only_metrics_evently_defines():
    dashboard = json.loads((PROMETHEUS.parent / "grafana" / "evently.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [
        r["expr"]
        for r in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    ]
    used = {name for expr in exprs for name in re.findall(r"\bevently_[a-z_]+", expr)}
    assert used, "no metric found"
    assert used - defined_metrics() == set()
    # Each dashboard panel with queries reads Prometheus through the import's data source.
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def test_every_dashboard_query_parses_as_promql(promtool, tmp_path):
    # Each query as a recording rule, which promtool parses; Grafana's $__rate_interval as the
    # range Grafana would put in its place.
    dashboard = json.loads((PROMETHEUS.parent / "grafana" / "evently.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = [
        {"record": f"evently_dashboard_query_{i}", "expr": e.replace("$__rate_interval", "1m")}
        for i, e in enumerate(exprs)
    ]
    path = tmp_path / "dashboard.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert f"SUCCESS: {len(exprs)} rules found" in run(promtool, "check", "rules", str(path))
