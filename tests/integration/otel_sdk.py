"""The real OpenTelemetry SDK as the global providers, with in-memory exporter and reader.

Global providers can be set once per process, so the first caller installs them and every test
shares them: ``reset()`` clears the spans and, the reader reporting deltas, drops the measurements
made before it, so each test reads exactly what it did. Classifiers made later in
the session (telemetry "auto") report to them too, which changes none of their results.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip(
    "opentelemetry.sdk",
    reason="needs the otel extra and the SDK: pip install -c constraints.txt -e '.[otel]' "
    "opentelemetry-sdk",
)

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from jeffrey_affect._telemetry import SCOPE

Attributes = frozenset[tuple[str, Any]]


@dataclass(frozen=True)
class Metric:
    unit: str
    points: dict[Attributes, Any]
    """Each attribute set's data point: a sum's value, or a histogram's point."""


@dataclass(frozen=True)
class Sdk:
    """Test modules reach OpenTelemetry through this, so that they skip, not fail, without it."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider

    def reset(self) -> None:
        self.exporter.clear()
        self.reader.get_metrics_data()

    def spans(self) -> list[ReadableSpan]:
        """Finished spans of this package, in the order they ended."""
        return [
            s for s in self.exporter.get_finished_spans() if s.instrumentation_scope.name == SCOPE
        ]

    def metrics(self) -> dict[str, Metric]:
        """This package's measurements since the last call or ``reset()``, by instrument name."""
        out: dict[str, Metric] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                if scope.scope.name != SCOPE:
                    continue
                for m in scope.metrics:
                    points = {
                        frozenset(p.attributes.items()): getattr(p, "value", p)
                        for p in m.data.data_points
                    }
                    out[m.name] = Metric(m.unit or "", points)
        return out


def attrs(**items: Any) -> Attributes:
    """An attribute set written as keywords, ``__`` standing for the dot of a key."""
    return frozenset((f"jeffrey_affect.{k.replace('__', '.')}", v) for k, v in items.items())


def plain(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    """Span attributes with lists for tuples, as they were set."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in (mapping or {}).items()}


@functools.cache
def installed_sdk() -> Sdk:
    delta = AggregationTemporality.DELTA  # the package makes counters and a histogram only
    reader = InMemoryMetricReader(preferred_temporality={Counter: delta, Histogram: delta})
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return Sdk(exporter, reader, tracer_provider)
