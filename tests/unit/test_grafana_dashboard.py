"""The Grafana dashboard queries what the classifier exports: every metric and label a PromQL query
names is read from a real classifier's Prometheus exposition, not from a list written here."""

import functools
import json
import re
from typing import Any, get_args

import pytest

from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._log import LineOutcome
from jeffrey_affect._result import Route
from jeffrey_affect._telemetry import FallbackClass
from tests.helpers import REPO, python_child

NEEDS = (
    "needs the OpenTelemetry SDK and Prometheus exporter: pip install -c constraints.txt "
    "-e '.[otel]' opentelemetry-sdk opentelemetry-exporter-prometheus"
)
pytest.importorskip("opentelemetry.sdk", reason=NEEDS)
pytest.importorskip("opentelemetry.exporter.prometheus", reason=NEEDS)
prometheus_parser = pytest.importorskip("prometheus_client.parser", reason=NEEDS)

DASHBOARD = REPO / "dashboards" / "grafana.json"

EXPORT = """
import tempfile
from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import REGISTRY, generate_latest

metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))

from jeffrey_affect import AffectClassifier, AffectConfig
from tests.helpers import FakeEncoder, RaisingEncoder

with tempfile.TemporaryDirectory() as logs:
    config = AffectConfig(log_dir=logs, telemetry="on")
    clf = AffectClassifier(config, encoder=FakeEncoder())
    clf.classify("where is my parcel?")
    clf.classify("where is my parcel?")  # a cache hit
    clf.classify("")  # an empty turn
    clf.classify_batch(["thanks!", "this is unacceptable"])
    clf.close()  # the log's lines are counted once written
    AffectClassifier(config, encoder=RaisingEncoder()).classify("hello?")  # a fallback
    print(generate_latest(REGISTRY).decode())
"""
"""Run in a fresh process: the global meter provider can be set once, and the telemetry tests
set theirs."""

TARGET_LABELS = {"job", "instance"}
"""Labels Prometheus adds to every scraped sample; the classifier does not export them."""

LABEL_VALUES: dict[str, set[str]] = {
    "jeffrey_affect_emotion": set(EMOTIONS),
    "jeffrey_affect_route": set(get_args(Route)),
    "jeffrey_affect_fallback_reason": set(get_args(FallbackClass)),
    "jeffrey_affect_low_confidence": {"true", "false"},
    "jeffrey_affect_cache_result": {"hit", "miss"},
    "jeffrey_affect_log_outcome": set(get_args(LineOutcome)),
}
"""What each label can hold, from the types that own them (the exporter writes bools lowercase).
A query's ``=`` and ``=~`` values must be among them; ``!=`` and ``!~`` may name a value that no
longer occurs, and then exclude nothing."""

_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
}


@functools.cache
def exported() -> dict[str, set[str]]:
    """Each sample name the classifier exports, with the label names it carries."""
    names: dict[str, set[str]] = {}
    for family in prometheus_parser.text_string_to_metric_families(python_child(EXPORT)):
        for sample in family.samples:
            if sample.name.startswith("jeffrey_affect"):
                names.setdefault(sample.name, set()).update(sample.labels)
    return names


def queries(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL query of the panels and of the variables (``label_values(QUERY, label)``)."""
    found = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", variable["query"]["query"])
            assert match, variable
            found.append(match[1])
    return found


Matcher = tuple[str, str, str]


def parse(query: str) -> tuple[list[str], list[Matcher], list[str]]:
    """The metric names a query selects, its label matchers, and the labels it groups by."""
    matchers = [
        (label, op, value)
        for block in re.findall(r"\{([^}]*)\}", query)
        for label, op, value in re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', block)
    ]
    grouping = [
        label.strip()
        for labels in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", query)
        for label in labels.split(",")
        if label.strip()
    ]
    bare = re.sub(r"\{[^}]*\}|\[[^]]*\]|\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", query)
    names = [
        name
        for name, call in re.findall(r"(?<![\w.$])([a-zA-Z_:][\w:]*)\s*(\()?", bare)
        if not call and name not in _KEYWORDS
    ]
    return names, matchers, grouping


def test_the_parser_finds_names_labels_and_groupings() -> None:
    names, matchers, grouping = parse(
        'sum by (le, route) (rate(a_total{x="1",y=~"b|c"}[5m])) / ignoring(z) group_left '
        "sum(rate(b_bucket[$__rate_interval])) or vector(0) offset 1h"
    )
    assert names == ["a_total", "b_bucket"]
    assert matchers == [("x", "=", "1"), ("y", "=~", "b|c")]
    assert grouping == ["le", "route", "z"]


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def test_the_dashboard_covers_what_a_fleet_watches(dashboard: dict[str, Any]) -> None:
    titles = {p["title"] for p in dashboard["panels"]}
    assert {
        "Turns per second by emotion",
        "Turns per second by route",
        "Turns per second by language",
        "Fallbacks per second by reason",
        "Latency percentiles",
        "Cache hit rate",
        "Log lines lost per second",
    } <= titles
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]  # Grafana's grid is 24 wide
        taken = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not taken & cells, f"{panel['title']} overlaps another panel"
        cells |= taken


def test_every_query_names_only_what_the_classifier_exports(dashboard: dict[str, Any]) -> None:
    names = exported()
    assert {
        "jeffrey_affect_predictions_total",
        "jeffrey_affect_fallbacks_total",
        "jeffrey_affect_classification_duration_seconds_bucket",
        "jeffrey_affect_cache_lookups_total",
        "jeffrey_affect_log_lines_total",
    } <= set(names)
    for query in queries(dashboard):
        metrics, matchers, grouping = parse(query)
        assert metrics, f"no metric in {query}"
        for metric in metrics:
            assert metric in names, f"{metric} is not exported (in {query})"
        labels = set().union(*(names[m] for m in metrics)) | TARGET_LABELS
        for label, op, value in matchers:
            assert label in labels, f"{label} is on none of {metrics} (in {query})"
            if label in LABEL_VALUES and op in ("=", "=~") and not value.startswith("$"):
                values = value.split("|") if op == "=~" else [value]
                assert set(values) <= LABEL_VALUES[label], f"{label}{op}{value!r} in {query}"
        for label in grouping:
            assert label in labels, f"grouping by {label}, on none of {metrics} (in {query})"


def test_a_misspelt_metric_would_fail(dashboard: dict[str, Any]) -> None:
    names = exported()
    query = queries(dashboard)[0].replace("predictions_total", "prediction_total")
    assert any(m not in names for m in parse(query)[0])
