"""Every injected fault falls back to a valid result with the expected route and reason."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeffrey_affect import (
    AffectClassifier,
    AffectResult,
    SentenceTransformerEncoder,
    preprocess_light,
)
from jeffrey_affect._artifacts import (
    HEAD_FILE,
    MANIFEST_FILE,
    PROTOTYPES_FILE,
    bundled_artifacts_dir,
)
from tests.test_classifier import assert_valid

Make = Callable[..., AffectClassifier]
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=10_000) | st.text(max_size=300)
FAST = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class RaisingEncoder:
    name = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = 384

    def encode(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("encoder exploded")


class NaNEncoder(RaisingEncoder):
    def encode(self, texts: list[str]) -> np.ndarray:
        return np.full((len(texts), self.dimension), np.nan, dtype=np.float32)


class WrongDimensionEncoder(RaisingEncoder):
    dimension = 512

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.random.default_rng(0).normal(size=(len(texts), 512)).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class ShapeLyingEncoder(RaisingEncoder):
    """Claims 384 dimensions but returns 128."""

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 128), dtype=np.float32)


def expect(r: AffectResult, text: str, route: str, reason: str) -> None:
    assert_valid(r)
    if not preprocess_light(text):
        assert (r.route, r.fallback_reason, r.emotion) == ("regex", "empty text", "neutral")
    else:
        assert r.route == route
        assert r.fallback_reason is not None and reason in r.fallback_reason


@pytest.mark.parametrize(
    ("encoder", "reason"),
    [
        (RaisingEncoder(), "encoder failed: RuntimeError"),
        (NaNEncoder(), "non-finite embedding"),
        (WrongDimensionEncoder(), "dimension mismatch"),
        (ShapeLyingEncoder(), "encoder returned shape"),
    ],
)
@FAST
@given(text=ANY_TEXT)
def test_encoder_faults_fall_back_to_regex(make_classifier: Make, encoder, reason, text) -> None:
    clf = make_classifier(encoder_override=encoder, log_enabled=False)
    expect(clf.classify(text), text, "regex", reason)


@FAST
@given(texts=st.lists(ANY_TEXT, max_size=5))
def test_batch_with_a_raising_encoder_still_answers_every_text(
    make_classifier: Make, texts
) -> None:
    clf = make_classifier(encoder_override=RaisingEncoder(), log_enabled=False)
    results = clf.classify_batch(texts)
    assert len(results) == len(texts)
    for text, r in zip(texts, results, strict=True):
        expect(r, text, "regex", "encoder failed")


def test_an_encoder_fault_is_not_cached(make_classifier: Make, encoder) -> None:
    class FlakyEncoder:
        name, dimension, calls = encoder.name, encoder.dimension, 0

        def encode(self, texts: list[str]) -> np.ndarray:
            self.calls += 1
            if self.calls == 1:
                raise TimeoutError("slow disk")
            return encoder.encode(texts)

    clf = make_classifier(encoder_override=FlakyEncoder())
    assert clf.classify("hello there").route == "regex"
    assert clf.classify("hello there").route == "linear_head"


def artifacts_copy(tmp_path: Path) -> Path:
    target = tmp_path / "artifacts"
    shutil.copytree(bundled_artifacts_dir(), target)
    return target


@pytest.mark.parametrize(
    ("damage", "route", "reason"),
    [
        ({HEAD_FILE: None}, "prototypes", f"{HEAD_FILE} unreadable"),
        ({HEAD_FILE: b"\x80\x04garbage"}, "prototypes", f"{HEAD_FILE} unreadable"),
        ({HEAD_FILE: b""}, "prototypes", f"{HEAD_FILE} unreadable"),
        ({HEAD_FILE: None, PROTOTYPES_FILE: b"PK\x03\x04 torn"}, "regex", PROTOTYPES_FILE),
        ({HEAD_FILE: None, PROTOTYPES_FILE: None}, "regex", PROTOTYPES_FILE),
        ({MANIFEST_FILE: None}, "regex", f"{MANIFEST_FILE} unreadable"),
        ({MANIFEST_FILE: b'{"encoder": '}, "regex", f"{MANIFEST_FILE} unreadable"),
    ],
)
def test_missing_or_corrupt_artifacts_fall_back(
    make_classifier: Make, tmp_path: Path, damage, route, reason
) -> None:
    directory = artifacts_copy(tmp_path)
    for name, content in damage.items():
        (directory / name).unlink()
        if content is not None:
            (directory / name).write_bytes(content)
    clf = make_classifier(artifacts_dir=directory)
    for text in ["my flight got cancelled and nobody tells me anything", "x" * 5000, "🙂"]:
        expect(clf.classify(text), text, route, reason)


def test_truncated_head_file_falls_back_and_names_the_file(make_classifier: Make, tmp_path) -> None:
    directory = artifacts_copy(tmp_path)
    head = directory / HEAD_FILE
    head.write_bytes(head.read_bytes()[: head.stat().st_size // 2])
    r = make_classifier(artifacts_dir=directory).classify("I love it")
    expect(r, "I love it", "prototypes", HEAD_FILE)


def test_manifest_for_another_encoder_sends_everything_to_regex(
    make_classifier: Make, tmp_path
) -> None:
    directory = artifacts_copy(tmp_path)
    manifest = directory / MANIFEST_FILE
    manifest.write_text(manifest.read_text().replace("all-MiniLM-L6-v2", "multilingual-e5-large"))
    r = make_classifier(artifacts_dir=directory).classify("I love it")
    expect(r, "I love it", "regex", "encoder mismatch")


def test_a_head_that_raises_falls_back_to_prototypes(make_classifier: Make) -> None:
    clf = make_classifier()

    class BrokenHead:
        def logits(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
            raise MemoryError("no room")

    clf.artifacts.head = BrokenHead()  # type: ignore[assignment]
    expect(clf.classify("so happy"), "so happy", "prototypes", "linear head failed: MemoryError")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=ANY_TEXT)
def test_any_text_through_the_real_encoder_gives_a_valid_result(
    make_classifier: Make, text
) -> None:
    r = make_classifier(log_enabled=False, cache_size=0).classify(text)
    assert_valid(r)
    if preprocess_light(text):
        assert (r.route, r.fallback_reason) == ("linear_head", None)
    else:
        assert (r.route, r.fallback_reason, r.emotion) == ("regex", "empty text", "neutral")


def test_manifest_with_other_labels_sends_everything_to_regex(
    make_classifier: Make, tmp_path
) -> None:
    directory = artifacts_copy(tmp_path)
    manifest = directory / MANIFEST_FILE
    data = json.loads(manifest.read_text())
    data["labels"] = list(reversed(data["labels"]))
    manifest.write_text(json.dumps(data))
    expect(make_classifier(artifacts_dir=directory).classify("hi"), "hi", "regex", "labels")


def test_another_prefix_than_the_artifacts_were_trained_with_falls_back(
    make_classifier: Make,
) -> None:
    prefixed = SentenceTransformerEncoder(prefix="query: ")
    expect(make_classifier(encoder_override=prefixed).classify("hi"), "hi", "regex", "prefix")


def test_an_encoder_error_message_never_reaches_the_log(make_classifier: Make, tmp_path) -> None:
    class QuotingEncoder(RaisingEncoder):
        def encode(self, texts: list[str]) -> np.ndarray:
            raise ValueError(f"cannot tokenize {texts!r}")

    logs = tmp_path / "quoting"
    text = "email me at alice@example.com or call 202-555-0143"
    clf = make_classifier(encoder_override=QuotingEncoder(), log_dir=logs, log_text_chars=5)
    assert clf.classify(text).fallback_reason == "encoder failed: ValueError"
    clf.close()
    logged = "".join(p.read_text() for p in logs.glob("*.jsonl"))
    assert "encoder failed: ValueError" in logged
    assert "alice" not in logged and "555" not in logged
