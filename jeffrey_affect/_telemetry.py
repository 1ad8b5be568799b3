"""OpenTelemetry metrics and spans, opt-in: the one owner of their names, units and attribute keys.

Importing this module imports no OpenTelemetry package; a classifier whose telemetry is on imports
the API alone (``opentelemetry-api``, the ``otel`` extra). The SDK, its exporters and where they
send are the application's choice, as the OpenTelemetry guidance for libraries asks.
"""

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from jeffrey_affect import _result as reasons
from jeffrey_affect._config import AffectConfig
from jeffrey_affect._log import LineOutcome, traced_text
from jeffrey_affect._result import UNKNOWN_LANGUAGE, AffectResult

if TYPE_CHECKING:
    from opentelemetry.util.types import AttributeValue

SCOPE = "jeffrey_affect"
"""The instrumentation scope of the meter and the tracer, and the prefix of every name below."""

Operation = Literal["classify", "classify_batch"]
"""A span's name is the scope and the operation: ``jeffrey_affect.classify``."""

# Instruments: (name, unit, description). Units are UCUM, counts in braces, as the conventions say.
PREDICTIONS = ("jeffrey_affect.predictions", "{prediction}", "Classified turns")
FALLBACKS = ("jeffrey_affect.fallbacks", "{fallback}", "Turns the linear head failed to serve")
EMPTY_TURNS = ("jeffrey_affect.empty_turns", "{turn}", "Empty turns, neutral without a model")
DURATION = ("jeffrey_affect.classification.duration", "s", "Time to classify one turn")
CACHE_LOOKUPS = ("jeffrey_affect.cache.lookups", "{lookup}", "Embedding cache hits and misses")
LOG_LINES = ("jeffrey_affect.log.lines", "{line}", "Prediction log lines by outcome")

DURATION_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
"""Seconds: a cache hit takes 0.01 ms, a miss a few ms on a CPU, a cold first turn up to a second;
the conventions' HTTP boundaries start at 5 ms and would put every turn in one bucket."""

# Attribute keys. None holds user text but TEXT and BATCH_TEXTS, set only with content capture on.
EMOTION = "jeffrey_affect.emotion"
CONFIDENCE = "jeffrey_affect.confidence"
ROUTE = "jeffrey_affect.route"
LANGUAGE = "jeffrey_affect.language"
LOW_CONFIDENCE = "jeffrey_affect.low_confidence"
FALLBACK_REASON = "jeffrey_affect.fallback.reason"
EMPTY_TURN = "jeffrey_affect.turn.empty"
CACHE_HIT = "jeffrey_affect.cache.hit"
CACHE_RESULT = "jeffrey_affect.cache.result"
LOG_OUTCOME = "jeffrey_affect.log.outcome"
MODEL_VERSION = "jeffrey_affect.model_version"
TEXT = "jeffrey_affect.text"
BATCH_SIZE = "jeffrey_affect.batch.size"
BATCH_EMOTIONS = "jeffrey_affect.batch.emotions"
BATCH_ROUTES = "jeffrey_affect.batch.routes"
BATCH_LANGUAGES = "jeffrey_affect.batch.languages"
BATCH_CONFIDENCE_MIN = "jeffrey_affect.batch.confidence.min"
BATCH_LOW_CONFIDENCE_COUNT = "jeffrey_affect.batch.low_confidence_count"
BATCH_FALLBACK_COUNT = "jeffrey_affect.batch.fallback_count"
BATCH_EMPTY_COUNT = "jeffrey_affect.batch.empty_count"
BATCH_TEXTS = "jeffrey_affect.batch.texts"
ERROR_TYPE = "error.type"  # the conventions' own key

FallbackClass = Literal[
    "encoder_error", "encoder_output", "head_error", "artifacts", "unsupported_language"
]


def is_empty(result: AffectResult) -> bool:
    """An empty turn is answered neutral by the regex route by design, not for want of a model:
    counted apart from the fallbacks, so that blank messages do not raise the fallback alarm."""
    return result.fallback_reason == reasons.EMPTY_TEXT


def language_of(result: AffectResult) -> str:
    """The turn's language as an attribute: its ISO 639-1 code, or "unknown" where it could not
    be told, so a metric's series stay as few as the languages identified, plus one."""
    return result.language or UNKNOWN_LANGUAGE


def fallback_class(result: AffectResult) -> FallbackClass | None:
    """Why the linear head failed to serve, from a closed set (None when it served, or the turn
    was empty): a reason's own words (an exception type, a file name) never become an attribute,
    so a metric's series stay few and known."""
    reason = result.fallback_reason
    if reason is None or is_empty(result):
        return None
    if reason.startswith(reasons.UNSUPPORTED_LANGUAGE):
        return "unsupported_language"
    if reason.startswith(reasons.ENCODER_FAILED):
        return "encoder_error"
    if reason.startswith((reasons.ENCODER_SHAPE, reasons.NON_FINITE)):
        return "encoder_output"
    if reason.startswith(reasons.HEAD_FAILED):
        return "head_error"
    return "artifacts"  # every other reason is why an artifact did not load (_artifacts)


def telemetry_for(config: AffectConfig, model_version: str) -> "Telemetry | None":
    """The classifier's telemetry, or None when it is off.

    "auto" is on when the application has installed an SDK (or any provider of its own) as the
    global tracer or meter provider before the classifier is made. It imports nothing to find
    out: an application that has not imported the OpenTelemetry API cannot have configured it.
    """
    if config.telemetry == "off" or (config.telemetry == "auto" and not _provider_installed()):
        return None
    return Telemetry(config, model_version)


def _provider_installed() -> bool:
    trace, metrics = (
        sys.modules.get("opentelemetry.trace"),
        sys.modules.get("opentelemetry.metrics"),
    )
    providers = [
        *([trace.get_tracer_provider()] if trace else []),
        *([metrics.get_meter_provider()] if metrics else []),
    ]
    # The API's own providers, the proxy and the no-op, are defined in these two modules' trees.
    return any(
        not type(p).__module__.startswith(("opentelemetry.trace", "opentelemetry.metrics"))
        for p in providers
    )


class Telemetry:
    """A classifier's instruments and tracer, from the global providers (proxies until an SDK is
    installed, which they then follow)."""

    def __init__(self, config: AffectConfig, model_version: str) -> None:
        try:
            from opentelemetry import metrics, trace
        except ModuleNotFoundError as exc:
            raise ImportError(
                "telemetry='on' needs opentelemetry-api: pip install 'jeffrey-affect[otel]'"
            ) from exc
        meter = metrics.get_meter(SCOPE)
        self._tracer = trace.get_tracer(SCOPE)
        self._predictions = meter.create_counter(*PREDICTIONS)
        self._fallbacks = meter.create_counter(*FALLBACKS)
        self._empty_turns = meter.create_counter(*EMPTY_TURNS)
        self._duration = meter.create_histogram(
            *DURATION, explicit_bucket_boundaries_advisory=DURATION_BUCKETS
        )
        self._cache = meter.create_counter(*CACHE_LOOKUPS)
        self._log_lines = meter.create_counter(*LOG_LINES)
        self._model_version = model_version
        self._capture = config.telemetry_capture_content
        self._text_chars = config.log_text_chars
        self._redactor = config.redactor

    def traced(
        self,
        operation: Operation,
        texts: Sequence[str],
        classify: Callable[[Sequence[str]], list[AffectResult]],
    ) -> list[AffectResult]:
        """``classify(texts)`` in a span under the caller's, then its results counted; the
        measurements are made inside the span so that exemplars can point at it.

        Faults fall back inside ``classify``; what escapes it (a cancellation, an interrupt) marks
        the span with its type alone, never its message or traceback, which may quote the turn.
        """
        with self._tracer.start_as_current_span(
            f"{SCOPE}.{operation}", record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                results = classify(texts)
            except BaseException as exc:
                from opentelemetry.trace import StatusCode

                span.set_status(StatusCode.ERROR, type(exc).__qualname__)
                span.set_attribute(ERROR_TYPE, f"{type(exc).__module__}.{type(exc).__qualname__}")
                raise
            if span.is_recording():
                attributes = (
                    self._turn(results[0], texts[0])
                    if operation == "classify"
                    else self._batch(results, texts)
                )
                span.set_attributes(attributes)
            self._measure(results)
        return results

    def log_lines(self, outcome: LineOutcome, lines: int) -> None:
        """Called by the prediction log, from its writer thread for lines written or refused."""
        self._log_lines.add(lines, {LOG_OUTCOME: outcome})

    def _measure(self, results: list[AffectResult]) -> None:
        for r in results:
            route = {ROUTE: r.route}
            self._predictions.add(
                1,
                {
                    EMOTION: r.emotion,
                    ROUTE: r.route,
                    LOW_CONFIDENCE: r.low_confidence,
                    LANGUAGE: language_of(r),
                },
            )
            if is_empty(r):
                self._empty_turns.add(1)
            elif (reason := fallback_class(r)) is not None:
                self._fallbacks.add(1, {FALLBACK_REASON: reason, **route})
            self._cache.add(1, {CACHE_RESULT: "hit" if r.cache_hit else "miss"})
            self._duration.record(r.latency_ms / 1000, route)

    def _turn(self, r: AffectResult, text: str) -> dict[str, "AttributeValue"]:
        attributes: dict[str, AttributeValue] = {
            EMOTION: r.emotion,
            CONFIDENCE: r.confidence,
            ROUTE: r.route,
            MODEL_VERSION: self._model_version,
            LOW_CONFIDENCE: r.low_confidence,
            CACHE_HIT: r.cache_hit,
            LANGUAGE: language_of(r),
        }
        if is_empty(r):
            attributes[EMPTY_TURN] = True
        elif (reason := fallback_class(r)) is not None:
            attributes[FALLBACK_REASON] = reason
        if self._capture:
            attributes[TEXT] = self._logged(text)
        return attributes

    def _batch(
        self, results: list[AffectResult], texts: Sequence[str]
    ) -> dict[str, "AttributeValue"]:
        """A summary rather than a row per turn: a batch may hold thousands, and the metrics
        already count each turn."""
        attributes: dict[str, AttributeValue] = {
            BATCH_SIZE: len(results),
            MODEL_VERSION: self._model_version,
            BATCH_EMOTIONS: sorted({r.emotion for r in results}),
            BATCH_ROUTES: sorted({r.route for r in results}),
            BATCH_LANGUAGES: sorted({language_of(r) for r in results}),
            BATCH_LOW_CONFIDENCE_COUNT: sum(r.low_confidence for r in results),
            BATCH_FALLBACK_COUNT: sum(fallback_class(r) is not None for r in results),
            BATCH_EMPTY_COUNT: sum(map(is_empty, results)),
        }
        if results:
            attributes[BATCH_CONFIDENCE_MIN] = min(r.confidence for r in results)
        if self._capture:
            attributes[BATCH_TEXTS] = [self._logged(t) for t in texts]
        return attributes

    def _logged(self, text: str) -> str:
        """Exactly what the prediction log keeps of the turn (``traced_text``)."""
        return traced_text(text, self._text_chars, self._redactor)
