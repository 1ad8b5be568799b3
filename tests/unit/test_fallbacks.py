"""Every injected fault falls back to a valid result with the expected route and reason."""

import hashlib
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeffrey_affect import AffectClassifier, AffectResult, Encoder, preprocess_light
from jeffrey_affect._artifacts import (
    HEAD_ARRAYS_FILE,
    HEAD_SPEC_FILE,
    HEAD_TOKENIZER_FILE,
    MANIFEST_FILE,
    PROTOTYPES_FILE,
    ArtifactSource,
    bundled_artifacts_dir,
    load_artifacts,
)
from jeffrey_affect._config import DEFAULT_ENCODER
from tests.helpers import ANY_TEXT, FakeEncoder, RaisingEncoder, assert_valid

Make = Callable[..., AffectClassifier]
FAST = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])


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
def test_encoder_faults_fall_back_to_regex(
    make_classifier: Make, encoder: Encoder, reason: str
) -> None:
    # One classifier for every example: the regex route's results are never cached, so each
    # example meets the fault afresh.
    clf = make_classifier(encoder_override=encoder, log_enabled=False)

    @FAST
    @given(text=ANY_TEXT)
    def check(text: str) -> None:
        expect(clf.classify(text), text, "regex", reason)

    check()


def test_batch_with_a_raising_encoder_still_answers_every_text(make_classifier: Make) -> None:
    clf = make_classifier(encoder_override=RaisingEncoder(), log_enabled=False)

    @FAST
    @given(texts=st.lists(ANY_TEXT, max_size=5))
    def check(texts: list[str]) -> None:
        results = clf.classify_batch(texts)
        assert len(results) == len(texts)
        for text, r in zip(texts, results, strict=True):
            expect(r, text, "regex", "encoder failed")

    check()


def test_a_batch_with_some_non_finite_rows_sends_only_those_to_regex(
    make_classifier: Make, encoder: FakeEncoder
) -> None:
    class PartlyNaNEncoder:
        """The fake encoder's rows, but NaN for every text that holds a digit."""

        name, dimension, prefix = encoder.name, encoder.dimension, encoder.prefix
        adapter_sha256 = encoder.adapter_sha256

        def encode(self, texts: list[str]) -> np.ndarray:
            out = encoder.encode(texts)
            out[[any(ch.isdigit() for ch in t) for t in texts]] = np.nan
            return out

    clf = make_classifier(encoder_override=PartlyNaNEncoder(), log_enabled=False, cache_size=0)
    head = make_classifier(encoder_override=encoder, log_enabled=False, cache_size=0)

    @FAST
    @given(
        texts=st.lists(st.sampled_from(["ok 1", "thanks!", "it broke 2 times", "ugh"]), max_size=6)
    )
    def check(texts: list[str]) -> None:
        for text, r in zip(texts, clf.classify_batch(texts), strict=True):
            if any(ch.isdigit() for ch in text):
                expect(r, text, "regex", "non-finite embedding")
            else:
                assert r.route == "linear_head"
                assert r.scores == pytest.approx(head.classify(text).scores, abs=1e-12)

    check()


def test_an_encoder_fault_is_not_cached(make_classifier: Make, encoder: FakeEncoder) -> None:
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
        ({HEAD_ARRAYS_FILE: None}, "prototypes", f"{HEAD_ARRAYS_FILE} is missing"),
        ({HEAD_SPEC_FILE: None}, "prototypes", f"{HEAD_SPEC_FILE} is missing"),
        ({HEAD_ARRAYS_FILE: b"\x80\x04garbage"}, "prototypes", f"{HEAD_ARRAYS_FILE} does not"),
        ({HEAD_SPEC_FILE: b""}, "prototypes", f"{HEAD_SPEC_FILE} does not match its sha256"),
        ({HEAD_TOKENIZER_FILE: None}, "prototypes", f"{HEAD_TOKENIZER_FILE} is missing"),
        ({HEAD_TOKENIZER_FILE: b"{}"}, "prototypes", f"{HEAD_TOKENIZER_FILE} does not match"),
        ({HEAD_ARRAYS_FILE: None, PROTOTYPES_FILE: b"PK\x03\x04 torn"}, "regex", PROTOTYPES_FILE),
        ({HEAD_SPEC_FILE: None, PROTOTYPES_FILE: None}, "regex", PROTOTYPES_FILE),
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
    head = directory / HEAD_ARRAYS_FILE
    head.write_bytes(head.read_bytes()[: head.stat().st_size // 2])
    r = make_classifier(artifacts_dir=directory).classify("I love it")
    expect(r, "I love it", "prototypes", HEAD_ARRAYS_FILE)


class Unpickled:
    """Touches a file if anything ever unpickles it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


LOADED_FILES = (
    HEAD_ARRAYS_FILE,
    HEAD_SPEC_FILE,
    HEAD_TOKENIZER_FILE,
    PROTOTYPES_FILE,
    MANIFEST_FILE,
)


def fresh_artifacts(directory: Path) -> Path:
    """The files load_artifacts reads, as committed (hypothesis reuses one directory)."""
    directory.mkdir(exist_ok=True)
    for name in LOADED_FILES:
        shutil.copyfile(bundled_artifacts_dir() / name, directory / name)
    return directory


def replace_file(directory: Path, name: str, data: bytes, *, rehash: bool) -> None:
    """Put ``data`` in place of an artifact; ``rehash`` also records its sha256 in the manifest,
    as a forger or a hand-made artifact would."""
    (directory / name).write_bytes(data)
    if rehash:
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
        manifest["file_sha256"][name] = hashlib.sha256(data).hexdigest()
        (directory / MANIFEST_FILE).write_text(json.dumps(manifest))


def head_problem(directory: Path) -> str:
    """Why the head cannot serve, loading as the classifier does; the prototypes still can."""
    artifacts = load_artifacts(ArtifactSource.read(directory, DEFAULT_ENCODER), RaisingEncoder())
    assert artifacts.head is None and artifacts.prototypes is not None
    assert artifacts.head_problem is not None
    return artifacts.head_problem


@FAST
@given(
    name=st.sampled_from([HEAD_ARRAYS_FILE, HEAD_SPEC_FILE, HEAD_TOKENIZER_FILE]),
    where=st.floats(0, 1, exclude_max=True),
    flip=st.integers(1, 255),
)
def test_an_altered_head_file_is_refused_by_its_sha256(
    tmp_path: Path, name: str, where: float, flip: int
) -> None:
    directory = fresh_artifacts(tmp_path / "artifacts")
    data = bytearray((directory / name).read_bytes())
    data[int(where * len(data))] ^= flip
    replace_file(directory, name, bytes(data), rehash=False)
    assert head_problem(directory) == f"{name} does not match its sha256 in {MANIFEST_FILE}"


@FAST
@given(
    name=st.sampled_from([HEAD_ARRAYS_FILE, HEAD_SPEC_FILE, HEAD_TOKENIZER_FILE]),
    cut=st.floats(0, 1, exclude_max=True),
    garbage=st.none() | st.binary(max_size=300),
)
def test_a_corrupt_head_file_with_a_matching_sha256_is_refused_naming_it(
    tmp_path: Path, name: str, cut: float, garbage: bytes | None
) -> None:
    """Truncated or garbage, yet recorded in the manifest: parsing refuses it, with the file."""
    directory = fresh_artifacts(tmp_path / "artifacts")
    data = (directory / name).read_bytes()
    replace_file(directory, name, garbage or data[: int(cut * len(data))], rehash=True)
    assert head_problem(directory).startswith(f"{name} unreadable: ")


@pytest.mark.parametrize("name", [HEAD_ARRAYS_FILE, PROTOTYPES_FILE])
def test_an_npz_with_an_object_array_is_refused_and_never_unpickled(
    tmp_path: Path, name: str
) -> None:
    directory = fresh_artifacts(tmp_path / "artifacts")
    marker = tmp_path / "unpickled"
    with np.load(directory / name, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    first = sorted(arrays)[0]
    arrays[first] = np.array([Unpickled(marker)], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=True, **arrays)
    replace_file(directory, name, buffer.getvalue(), rehash=True)
    artifacts = load_artifacts(ArtifactSource.read(directory, DEFAULT_ENCODER), RaisingEncoder())
    problem = artifacts.head_problem if name == HEAD_ARRAYS_FILE else artifacts.prototypes_problem
    assert problem is not None and problem.startswith(f"{name} unreadable: ValueError")
    assert "allow_pickle=False" in problem
    assert not marker.exists()


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"format": 1}, "format"),
        ({"ngrams": {"units": "characters"}}, "n-gram settings"),
        ({"temperature": -1.0}, "temperature"),
        ({"dimension": 512}, f"{HEAD_ARRAYS_FILE} does not fit {HEAD_SPEC_FILE}"),
    ],
)
def test_a_head_spec_this_version_cannot_score_is_refused(
    tmp_path: Path, edit: dict[str, object], reason: str
) -> None:
    directory = fresh_artifacts(tmp_path / "artifacts")
    spec = json.loads((directory / HEAD_SPEC_FILE).read_bytes()) | edit
    replace_file(directory, HEAD_SPEC_FILE, json.dumps(spec).encode(), rehash=True)
    assert reason in head_problem(directory)


@pytest.mark.parametrize("term", ["", "the the the", "the ", " the"])
def test_a_vocabulary_term_that_is_not_one_token_or_two_is_refused(
    tmp_path: Path, term: str
) -> None:
    directory = fresh_artifacts(tmp_path / "artifacts")
    spec = json.loads((directory / HEAD_SPEC_FILE).read_bytes())
    spec["vocabulary"][0] = term
    replace_file(directory, HEAD_SPEC_FILE, json.dumps(spec).encode(), rehash=True)
    assert f"{term!r} is not one token or two" in head_problem(directory)


def test_a_manifest_without_file_hashes_serves_no_artifact_it_cannot_check(
    make_classifier: Make, tmp_path: Path
) -> None:
    directory = artifacts_copy(tmp_path)
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    del manifest["file_sha256"]
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))
    expect(make_classifier(artifacts_dir=directory).classify("hi"), "hi", "regex", "no sha256")


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
    prefixed = FakeEncoder(prefix="query: ")
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


def test_an_encoder_with_other_weights_than_the_manifests_is_kept_away(
    make_classifier: Make,
) -> None:
    """Same name, same dimension, other weights (an upgraded package): refused, not misread."""

    class Reweighted(FakeEncoder):
        weights_sha256 = "f" * 64

    r = make_classifier(encoder_override=Reweighted()).classify("I love it")
    expect(r, "I love it", "regex", "encoder mismatch: artifacts trained with weights none")
