"""The README's telemetry snippets run as written and export what the README says, to a
Prometheus scrape and to an OTLP receiver on the loopback.

They are fenced ``py``, not ``python``: the README test runs every ``python`` snippet with the core
install alone, and these need the SDK and an exporter, which only these tests require.
"""

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

NEEDS = (
    "needs the README's exporters: pip install -c constraints.txt -e '.[otel]' opentelemetry-sdk "
    "opentelemetry-exporter-prometheus opentelemetry-exporter-otlp-proto-http"
)
pytest.importorskip("opentelemetry.exporter.prometheus", reason=NEEDS)
pytest.importorskip("opentelemetry.exporter.otlp.proto.http", reason=NEEDS)
prometheus_parser = pytest.importorskip("prometheus_client.parser", reason=NEEDS)
metrics_pb2 = pytest.importorskip(
    "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2", reason=NEEDS
)
trace_pb2 = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2", reason=NEEDS
)

REPO = Path(__file__).resolve().parents[2]
SECTION = (REPO / "README.md").read_text().split("### Metrics and traces (OpenTelemetry)\n")[1]
PROMETHEUS, OTLP = re.findall(r"```py\n(.*?)```", re.split(r"\n##+ ", SECTION)[0], flags=re.S)


def run(code: str, cwd: Path, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=os.environ | {"PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_prometheus_snippet_serves_the_metrics(tmp_path: Path) -> None:
    port = free_port()
    scrape = (
        "\nimport urllib.request\n"
        f"print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics').read().decode())\n"
    )
    emotion, page = run(PROMETHEUS.replace("9464", str(port)) + scrape, tmp_path).split("\n", 1)
    samples = {
        (s.name, s.labels.get("jeffrey_affect_route")): s
        for family in prometheus_parser.text_string_to_metric_families(page)
        for s in family.samples
        if s.name.startswith("jeffrey_affect")
    }
    predictions = samples["jeffrey_affect_predictions_total", "linear_head"]
    assert predictions.value == 1
    assert predictions.labels["jeffrey_affect_emotion"] == emotion
    assert samples["jeffrey_affect_classification_duration_seconds_count", "linear_head"].value == 1
    cache = samples["jeffrey_affect_cache_lookups_total", None]
    assert (cache.labels["jeffrey_affect_cache_result"], cache.value) == ("miss", 1)


class Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that keeps each request's path and body."""

    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []
    handler = type("Handler", (Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    thread.join()


def test_the_otlp_snippet_exports_spans_and_metrics(
    tmp_path: Path, receiver: tuple[str, list[tuple[str, bytes]]]
) -> None:
    endpoint, received = receiver
    out = run(OTLP, tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="replica-7")
    emotion = out.strip()
    traces = [
        trace_pb2.ExportTraceServiceRequest.FromString(b) for p, b in received if p == "/v1/traces"
    ]
    spans = [
        (s, r.resource)
        for t in traces
        for r in t.resource_spans
        for scope in r.scope_spans
        for s in scope.spans
    ]
    assert [s.name for s, _ in spans] == ["jeffrey_affect.classify"]
    span, resource = spans[0]
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["jeffrey_affect.emotion"].string_value == emotion
    assert attributes["jeffrey_affect.route"].string_value == "linear_head"
    service = {a.key: a.value.string_value for a in resource.attributes}["service.name"]
    assert service == "replica-7"
    exported = [
        metrics_pb2.ExportMetricsServiceRequest.FromString(b)
        for p, b in received
        if p == "/v1/metrics"
    ]
    names = {
        m.name
        for e in exported
        for r in e.resource_metrics
        for scope in r.scope_metrics
        if scope.scope.name == "jeffrey_affect"
        for m in scope.metrics
    }
    assert {
        "jeffrey_affect.predictions",
        "jeffrey_affect.classification.duration",
        "jeffrey_affect.cache.lookups",
    } <= names
