"""OpenTelemetry metrics and spans, read back from the real SDK after known sequences of turns."""

import asyncio
import gc
import json
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jeffrey_affect import AffectClassifier, AffectConfig, AffectResult, Encoder
from jeffrey_affect._artifacts import HEAD_ARRAYS_FILE, bundled_artifacts_dir
from jeffrey_affect._log import logged_text
from jeffrey_affect._telemetry import DURATION_BUCKETS, SCOPE, Telemetry
from tests.helpers import made_result, python_child
from tests.integration.otel_sdk import Sdk, attrs, installed_sdk, plain

REPO = Path(__file__).resolve().parents[2]
THANKS, PARCEL, CRASH = "thanks, that fixed it!", "where is my parcel?", "the app crashed again"


class FlakyEncoder:
    """The real encoder, raising while ``failing`` is set: the fault that forces the regex route.
    It says what the real one says (name, adapter), so the artifacts' guards let it through."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.failing = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.failing:
            raise RuntimeError(f"encoder down while encoding {texts}")  # quotes the user
        return self.inner.encode(texts)


class NaNEncoder(FlakyEncoder):
    def encode(self, texts: list[str]) -> np.ndarray:
        return np.full((len(texts), self.dimension), np.nan, dtype=np.float32)


@pytest.fixture(scope="module")
def real_encoder() -> Encoder:
    """The default encoder (ONNX fp32, the artifacts' adapter merged), as a user gets it."""
    return AffectClassifier(AffectConfig(log_enabled=False, telemetry="off")).encoder


@pytest.fixture
def sdk() -> Sdk:
    installed = installed_sdk()
    # Earlier tests' classifiers, once collected, flush their log writers and count those lines:
    # collect them now, before the reset, so that no test reads another's lines.
    gc.collect()
    installed.reset()
    return installed


def classifier(encoder: Any, tmp_path: Path, **settings: Any) -> AffectClassifier:
    settings.setdefault("log_dir", tmp_path / "logs")
    settings.setdefault("telemetry", "on")
    return AffectClassifier(AffectConfig(**settings), encoder=encoder)


def turn_attributes(clf: AffectClassifier, r: AffectResult, **extra: Any) -> dict[str, Any]:
    return {
        "jeffrey_affect.emotion": r.emotion,
        "jeffrey_affect.confidence": r.confidence,
        "jeffrey_affect.route": r.route,
        "jeffrey_affect.model_version": clf.model_version,
        "jeffrey_affect.low_confidence": r.low_confidence,
        "jeffrey_affect.cache.hit": r.cache_hit,
        "jeffrey_affect.language": r.language or "unknown",
        **{f"jeffrey_affect.{k.replace('__', '.')}": v for k, v in extra.items()},
    }


def test_a_known_sequence_of_turns_gives_exact_metrics_and_spans(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path
) -> None:
    encoder = FlakyEncoder(real_encoder)
    clf = classifier(encoder, tmp_path)
    first = clf.classify(THANKS)  # head, miss
    again = clf.classify(THANKS)  # head, hit
    empty = clf.classify("")  # regex, empty text
    batch = clf.classify_batch([PARCEL, THANKS, ""])  # head miss, head hit, empty text
    encoder.failing = True
    down = clf.classify(CRASH)  # regex: the encoder raised
    encoder.failing = False
    back = clf.classify(CRASH)  # head, miss: regex outcomes are not cached
    clf.close()  # the log's writer thread counts its lines
    results = [first, again, empty, *batch, down, back]
    assert [r.route for r in results] == ["linear_head"] * 2 + ["regex"] + [
        "linear_head",
        "linear_head",
        "regex",
        "regex",
        "linear_head",
    ]

    found = sdk.metrics()
    assert {name: m.unit for name, m in found.items()} == {
        "jeffrey_affect.predictions": "{prediction}",
        "jeffrey_affect.fallbacks": "{fallback}",
        "jeffrey_affect.empty_turns": "{turn}",
        "jeffrey_affect.classification.duration": "s",
        "jeffrey_affect.cache.lookups": "{lookup}",
        "jeffrey_affect.log.lines": "{line}",
    }
    predictions = Counter(
        attrs(
            emotion=r.emotion,
            route=r.route,
            low_confidence=r.low_confidence,
            language=r.language or "unknown",
        )
        for r in results
    )
    assert found["jeffrey_affect.predictions"].points == predictions
    # An empty turn is no model failure: counted apart, so blank messages raise no alarm.
    assert found["jeffrey_affect.fallbacks"].points == {
        attrs(fallback__reason="encoder_error", route="regex"): 1,
    }
    assert found["jeffrey_affect.empty_turns"].points == {attrs(): 2}
    assert found["jeffrey_affect.cache.lookups"].points == {
        attrs(cache__result="hit"): 2,
        attrs(cache__result="miss"): 6,
    }
    assert found["jeffrey_affect.log.lines"].points == {attrs(log__outcome="written"): 8}
    durations = found["jeffrey_affect.classification.duration"].points
    assert set(durations) == {attrs(route="linear_head"), attrs(route="regex")}
    for route, point in ((p, durations[attrs(route=p)]) for p in ("linear_head", "regex")):
        served = [r.latency_ms / 1000 for r in results if r.route == route]
        assert point.count == len(served)
        assert point.sum == pytest.approx(sum(served))
        assert tuple(point.explicit_bounds) == DURATION_BUCKETS

    spans = sdk.spans()
    assert [s.name for s in spans] == [f"{SCOPE}.classify"] * 3 + [
        f"{SCOPE}.classify_batch",
        f"{SCOPE}.classify",
        f"{SCOPE}.classify",
    ]
    assert all(s.kind.name == "INTERNAL" and s.parent is None for s in spans)
    assert all(s.status.status_code.name == "UNSET" for s in spans)  # a fallback is no error
    assert [plain(s.attributes) for s in spans] == [
        turn_attributes(clf, first),
        turn_attributes(clf, again),
        turn_attributes(clf, empty, turn__empty=True),
        {
            "jeffrey_affect.batch.size": 3,
            "jeffrey_affect.model_version": clf.model_version,
            "jeffrey_affect.batch.emotions": sorted({r.emotion for r in batch}),
            "jeffrey_affect.batch.routes": ["linear_head", "regex"],
            "jeffrey_affect.batch.languages": sorted({r.language or "unknown" for r in batch}),
            "jeffrey_affect.batch.low_confidence_count": sum(r.low_confidence for r in batch),
            "jeffrey_affect.batch.fallback_count": 0,
            "jeffrey_affect.batch.empty_count": 1,
            "jeffrey_affect.batch.confidence.min": min(r.confidence for r in batch),
        },
        turn_attributes(clf, down, fallback__reason="encoder_error"),
        turn_attributes(clf, back),
    ]


def test_the_turns_language_is_a_span_attribute_and_a_label_unknown_where_not_told(
    sdk: Sdk,
) -> None:
    telemetry = Telemetry(AffectConfig(log_enabled=False), "test")
    french, unknown = made_result("joy", language="fr"), made_result("anger", 0.3)
    telemetry.traced("classify", ["merci !"], lambda texts: [french])
    telemetry.traced(
        "classify_batch", ["merci", "!!", "ok"], lambda texts: [french, unknown, french]
    )

    spans = [plain(s.attributes) for s in sdk.spans()]
    assert spans[0]["jeffrey_affect.language"] == "fr"
    assert spans[1]["jeffrey_affect.batch.languages"] == ["fr", "unknown"]
    assert sdk.metrics()["jeffrey_affect.predictions"].points == {
        attrs(emotion="joy", route="linear_head", low_confidence=False, language="fr"): 3,
        attrs(emotion="anger", route="linear_head", low_confidence=True, language="unknown"): 1,
    }


def test_each_fallback_has_its_reason_class(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reason's own words vary (exception types, file names); its class is one of four."""
    shape = FlakyEncoder(real_encoder)
    shape.encode = lambda texts: np.ones((len(texts), 7), dtype=np.float32)  # type: ignore[method-assign]
    broken_head = classifier(real_encoder, tmp_path)

    class BrokenHead:
        def logits(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
            raise MemoryError("no room")

    monkeypatch.setattr(broken_head.artifacts, "head", BrokenHead())
    headless = tmp_path / "artifacts"
    shutil.copytree(bundled_artifacts_dir(), headless)
    (headless / HEAD_ARRAYS_FILE).unlink()
    cases = [
        (classifier(NaNEncoder(real_encoder), tmp_path), "encoder_output", "regex"),
        (classifier(shape, tmp_path), "encoder_output", "regex"),
        (broken_head, "head_error", "prototypes"),
        (classifier(real_encoder, tmp_path, artifacts_dir=headless), "artifacts", "prototypes"),
    ]
    for clf, reason_class, route in cases:
        r = clf.classify(PARCEL)
        assert r.route == route and r.fallback_reason
        fallbacks = sdk.metrics()["jeffrey_affect.fallbacks"].points
        assert fallbacks == {attrs(fallback__reason=reason_class, route=route): 1}
        assert sdk.spans()[-1].attributes["jeffrey_affect.fallback.reason"] == reason_class  # type: ignore[index]


def test_log_lines_written_failed_and_dropped_are_counted(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writing = classifier(real_encoder, tmp_path, log_dir=tmp_path / "ok")
    refused_dir = tmp_path / "shared"
    refused_dir.mkdir()
    refused_dir.chmod(0o777)  # group- and world-writable: refused at start, each line a failure
    refusing = classifier(real_encoder, tmp_path, log_dir=refused_dir)
    writing.classify_batch([THANKS, PARCEL, CRASH])
    refusing.classify_batch([THANKS, PARCEL])
    writing.close()
    monkeypatch.setattr("jeffrey_affect._log.QUEUE_SIZE", 0)  # every line finds the queue full
    writing.classify(THANKS)
    writing.close()
    assert sdk.metrics()["jeffrey_affect.log.lines"].points == {
        attrs(log__outcome="written"): 3,
        attrs(log__outcome="failed"): 2,
        attrs(log__outcome="dropped"): 1,
    }
    assert (writing.stats()["logged"], writing.stats()["log_dropped"]) == (3, 1)
    assert refusing.stats()["log_write_failures"] == 2


PRIVATE = [
    "Zanzibar refund for mira.k@example.org, call +44 20 7946 0958",
    "my password: hunter2zebra and the Quokka invoice 7781",
]
SECRETS = ["Zanzibar", "mira.k", "example.org", "7946", "hunter2zebra", "Quokka", "7781"]


def every_attribute_value(sdk: Sdk) -> list[str]:
    """Each attribute value of every span (with its events, links and resource) and of every
    metric data point and resource, as text."""
    values: list[object] = []
    for span in sdk.spans():
        values += [*span.attributes.values(), *span.resource.attributes.values()]  # type: ignore[union-attr]
        for event in span.events:
            values += event.attributes.values()  # type: ignore[union-attr]
        for link in span.links:
            values += link.attributes.values()  # type: ignore[union-attr]
    data = sdk.reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        values += resource.resource.attributes.values()
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    values += point.attributes.values()  # type: ignore[union-attr]
    return [json.dumps(v) if isinstance(v, list | tuple) else str(v) for v in values]


def test_no_attribute_holds_the_users_text_unless_capture_is_on(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path
) -> None:
    encoder = FlakyEncoder(real_encoder)
    clf = classifier(encoder, tmp_path)
    clf.classify(PRIVATE[0])
    clf.classify_batch(PRIVATE)
    encoder.failing = True  # the exception's message quotes the texts
    clf.classify(PRIVATE[1])
    clf.close()
    values = every_attribute_value(sdk)
    assert len(sdk.spans()) == 3 and len(values) > 30
    leaked = [(s, v) for s in SECRETS for v in values if s.lower() in v.lower()]
    assert leaked == []


def test_what_escapes_classify_marks_the_span_with_its_type_alone(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path
) -> None:
    encoder = FlakyEncoder(real_encoder)

    def cancelled(texts: list[str]) -> np.ndarray:
        raise asyncio.CancelledError(f"cancelled while encoding {texts}")

    encoder.encode = cancelled  # type: ignore[method-assign]
    clf = classifier(encoder, tmp_path)
    with pytest.raises(asyncio.CancelledError):
        clf.classify(PRIVATE[0])
    (span,) = sdk.spans()
    assert (span.status.status_code.name, span.status.description) == ("ERROR", "CancelledError")
    assert plain(span.attributes) == {"error.type": "asyncio.exceptions.CancelledError"}
    assert span.events == ()
    assert [s for s in SECRETS if s in str(span.to_json())] == []
    assert sdk.metrics() == {}  # no result, nothing counted


def test_captured_content_is_what_the_log_keeps(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path
) -> None:
    clf = classifier(real_encoder, tmp_path, telemetry_capture_content=True, log_text_chars=40)
    clf.classify(PRIVATE[0])
    clf.classify_batch(PRIVATE)
    turn, batch = (plain(s.attributes) for s in sdk.spans())
    kept = [logged_text(t, 40) for t in PRIVATE]
    assert turn["jeffrey_affect.text"] == kept[0]
    assert batch["jeffrey_affect.batch.texts"] == kept
    assert kept[0].startswith("Zanzibar refund for <EMAIL>") and len(kept[0]) <= 40
    assert "<SECRET>" in kept[1] and "hunter2zebra" not in kept[1]


def test_a_raising_redactor_leaves_no_text_and_never_makes_classify_raise(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path
) -> None:
    def broken(text: str) -> str:
        raise RuntimeError("the user's redaction service is down")

    clf = classifier(real_encoder, tmp_path, telemetry_capture_content=True, redactor=broken)
    result = clf.classify(PRIVATE[0])
    clf.classify_batch(PRIVATE)
    clf.close()
    turn, batch = (plain(s.attributes) for s in sdk.spans())
    assert turn["jeffrey_affect.text"] == ""
    assert batch["jeffrey_affect.batch.texts"] == [""] * len(PRIVATE)
    assert turn["jeffrey_affect.emotion"] == result.emotion
    assert clf.stats()["log_write_failures"] == 1 + len(PRIVATE)  # the log counts its lost lines


def test_spans_nest_under_the_callers_span_sync_and_async(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path
) -> None:
    clf = classifier(real_encoder, tmp_path)
    tracer = sdk.tracer_provider.get_tracer("agent")

    async def turn() -> None:
        with tracer.start_as_current_span("agent.turn.async"):
            await clf.aclassify(CRASH)  # in a worker thread
            await clf.aclassify_batch([THANKS])

    with tracer.start_as_current_span("agent.turn"):
        clf.classify(THANKS)
    asyncio.run(turn())
    by_name = {s.name: s for s in sdk.exporter.get_finished_spans() if s.name.startswith("agent")}
    ours = sdk.spans()
    assert [(s.name, s.parent.span_id if s.parent else None) for s in ours] == [
        (f"{SCOPE}.classify", by_name["agent.turn"].context.span_id),
        (f"{SCOPE}.classify", by_name["agent.turn.async"].context.span_id),
        (f"{SCOPE}.classify_batch", by_name["agent.turn.async"].context.span_id),
    ]


def test_auto_follows_the_global_provider_and_off_records_nothing(
    sdk: Sdk, real_encoder: Encoder, tmp_path: Path
) -> None:
    """With an SDK installed (the fixture), "auto" is on; "off" stays off."""
    classifier(real_encoder, tmp_path, telemetry="auto").classify(THANKS)
    assert len(sdk.spans()) == 1 and sdk.metrics()
    classifier(real_encoder, tmp_path, telemetry="off").classify(THANKS)
    assert sdk.spans() == [sdk.spans()[0]] and sdk.metrics() == {}


def test_on_without_the_api_says_which_extra_to_install(
    real_encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if opentelemetry-api were absent
    with pytest.raises(ImportError, match=r"jeffrey-affect\[otel\]"):
        classifier(real_encoder, tmp_path)


IMPORTED = """
import importlib.metadata, json, sys
from pathlib import Path
from jeffrey_affect import AffectClassifier, AffectConfig
clf = AffectClassifier(AffectConfig(log_enabled=False, telemetry=sys.argv[1]))
clf.classify("thanks, that fixed it!")
clf.classify_batch(["where is my parcel?", ""])
api = {Path(str(f.locate())).resolve() for f in importlib.metadata.files("opentelemetry-api")}
loaded = {n: m for n, m in sys.modules.items() if n.partition(".")[0] == "opentelemetry"}
outside = [n for n, m in loaded.items() if getattr(m, "__file__", None)
           and Path(m.__file__).resolve() not in api]
print(json.dumps({"loaded": sorted(loaded), "outside_api": outside}))
"""


@pytest.mark.parametrize("telemetry", ["off", "auto", "on"])
def test_what_a_process_imports_of_opentelemetry(telemetry: str) -> None:
    """Off, and auto with no SDK installed, import none of it; on imports the API, never the SDK."""
    found = json.loads(python_child(IMPORTED, telemetry).strip().splitlines()[-1])
    if telemetry == "on":
        assert {"opentelemetry.trace", "opentelemetry.metrics"} <= set(found["loaded"])
        assert found["outside_api"] == []
    else:
        assert found["loaded"] == []
