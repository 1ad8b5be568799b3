"""The router's plumbing on the fake encoder: cache, batching, inputs, priors, configuration."""

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from jeffrey_affect import EMOTIONS, AffectClassifier, AffectConfig, AffectResult
from jeffrey_affect._classifier import ENCODE_CHUNK
from jeffrey_affect._config import TEMPERED_PRIOR_POWER
from tests.helpers import PATIENCE_S, CountingEncoder, FakeEncoder, assert_valid, log_lines

Make = Callable[..., AffectClassifier]


def test_low_confidence_follows_the_threshold(make_classifier: Make) -> None:
    text = "hmm ok"
    loose = make_classifier(low_confidence_threshold=0.0).classify(text)
    strict = make_classifier(low_confidence_threshold=1.0).classify(text)
    assert not loose.low_confidence
    assert strict.low_confidence


def test_second_call_is_a_cache_hit_with_the_same_scores(
    make_classifier: Make, encoder: FakeEncoder
) -> None:
    counting = CountingEncoder(encoder)
    clf = make_classifier(encoder_override=counting)
    first = clf.classify("the app crashed again, I'm so done")
    second = clf.classify("  the app crashed   again, I'm so done ")  # same after preprocessing
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert first.scores == second.scores
    assert len(counting.calls) == 1
    stats = clf.stats()
    assert (stats["cache_hits"], stats["cache_misses"]) == (1, 1)


def test_cache_size_zero_disables_the_cache(make_classifier: Make, encoder: FakeEncoder) -> None:
    counting = CountingEncoder(encoder)
    clf = make_classifier(encoder_override=counting, cache_size=0)
    assert not clf.classify("hello").cache_hit
    assert not clf.classify("hello").cache_hit
    assert len(counting.calls) == 2


def test_batch_makes_one_encoder_call_for_distinct_misses(
    make_classifier: Make, encoder: FakeEncoder
) -> None:
    counting = CountingEncoder(encoder)
    clf = make_classifier(encoder_override=counting)
    clf.classify("already seen")
    texts = ["already seen", "new one", "new one", "another", ""]
    results = clf.classify_batch(texts)
    assert counting.calls == [["already seen"], ["new one", "another"]]
    assert [r.cache_hit for r in results] == [True, False, False, False, False]
    assert results[1].scores == results[2].scores
    assert (results[4].emotion, results[4].fallback_reason) == ("neutral", "empty text")
    assert clf.classify_batch([]) == []


def test_a_big_batch_is_encoded_a_chunk_at_a_time_longest_first(
    make_classifier: Make, encoder: FakeEncoder
) -> None:
    """Chunks cut in input order would mix long and short turns, and pad each encoder batch."""
    counting = CountingEncoder(encoder)
    clf = make_classifier(encoder_override=counting, log_enabled=False)
    texts = [f"turn {'very ' * (i % 7)}number {i}" for i in range(2 * ENCODE_CHUNK + 5)]
    results = clf.classify_batch(texts)
    assert [len(c) for c in counting.calls] == [ENCODE_CHUNK, ENCODE_CHUNK, 5]
    assert [t for c in counting.calls for t in c] == sorted(texts, key=len, reverse=True)
    assert [r.emotion for r in results] == [clf.classify(t).emotion for t in texts]
    assert {r.route for r in results} == {"linear_head"}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_turns_classified_again_unrecorded_leave_no_log_line_and_no_count(
    make_classifier: Make, tmp_path: Path, mode: str
) -> None:
    turns = ["my order is late", "", "thanks, that fixed it!"]
    clf = make_classifier()
    first = clf.classify_batch(turns)
    clf.close()  # its lines written and counted
    before = clf.stats()
    again = (
        clf.classify_batch(turns, record=False)
        if mode == "sync"
        else asyncio.run(clf.aclassify_batch(turns, record=False))
    )
    clf.close()
    assert [(r.emotion, r.scores) for r in again] == [(r.emotion, r.scores) for r in first]
    assert clf.stats() == before
    assert len(log_lines(tmp_path / "logs")) == len(turns)


@pytest.mark.parametrize("text", ["", "   ", "\n\t\x00"])
def test_empty_text_is_neutral_without_the_encoder(
    make_classifier: Make, encoder: FakeEncoder, text: str
) -> None:
    counting = CountingEncoder(encoder)
    r = make_classifier(encoder_override=counting).classify(text)
    assert (r.emotion, r.route, r.fallback_reason) == ("neutral", "regex", "empty text")
    assert counting.calls == []


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"], {"text": "x"}])
def test_non_str_raises_type_error_naming_the_type(make_classifier: Make, bad) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        make_classifier().classify(bad)


def test_batch_rejects_a_bare_string_and_non_str_items(make_classifier: Make) -> None:
    clf = make_classifier()
    with pytest.raises(TypeError, match="list of str"):
        clf.classify_batch("not a list")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int"):
        clf.classify_batch(["ok", 3])  # type: ignore[list-item]


class WaitingEncoder(FakeEncoder):
    """Encodes once the event loop has run a callback, or gives up after ``PATIENCE_S``: were the
    encoder on the loop's thread, the loop could not run it."""

    def __init__(self) -> None:
        super().__init__()
        self.loop_ran = threading.Event()
        self.saw_the_loop_run: list[bool] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.saw_the_loop_run.append(self.loop_ran.wait(PATIENCE_S))
        return super().encode(texts)


def test_aclassify_does_not_block_the_event_loop(make_classifier: Make) -> None:
    encoder = WaitingEncoder()
    clf = make_classifier(encoder_override=encoder, cache_size=0)

    async def main() -> AffectResult:
        asyncio.get_running_loop().call_soon(encoder.loop_ran.set)
        return await clf.aclassify("long text " * 200)

    assert_valid(asyncio.run(main()))
    assert encoder.saw_the_loop_run == [True]  # the loop kept running while the encoder worked


def test_class_prior_shifts_scores_toward_the_weights(make_classifier: Make) -> None:
    text = "ok"
    weights = dict.fromkeys(EMOTIONS, 1.0) | {"surprise": 1000.0}
    train = make_classifier(class_prior="train").classify(text)
    custom = make_classifier(class_prior=weights).classify(text)
    assert (train.class_prior, custom.class_prior) == ("train", "custom")
    assert custom.scores["surprise"] > train.scores["surprise"]
    assert make_classifier().classify(text).class_prior == "tempered"


def test_tempered_prior_moves_halfway_from_train_to_uniform(make_classifier: Make) -> None:
    text = "the parcel never came"
    log_scores = {}
    for prior in ("train", "tempered", "uniform"):
        result = make_classifier(class_prior=prior).classify(text)
        assert result.route == "linear_head"
        log_scores[prior] = np.log([result.scores[e] for e in EMOTIONS])
    moved = log_scores["tempered"] - log_scores["train"]
    full = log_scores["uniform"] - log_scores["train"]
    assert np.ptp(full) > 1.0  # the priors differ enough for the test to mean something
    np.testing.assert_allclose(
        moved - moved.mean(), TEMPERED_PRIOR_POWER * (full - full.mean()), atol=1e-6
    )


def test_class_prior_weights_are_validated() -> None:
    with pytest.raises(ValueError, match="missing"):
        AffectConfig(class_prior={"joy": 1.0})
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="finite positive"):
            AffectConfig(class_prior=dict.fromkeys(EMOTIONS, 1.0) | {"fear": bad})
    for field in ("cache_size", "log_text_chars", "log_retention_days"):
        with pytest.raises(ValueError, match=field):
            AffectConfig(**{field: -1})


def test_environment_overrides_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JEFFREY_AFFECT_LOG_TEXT_CHARS", "7")
    monkeypatch.setenv("JEFFREY_AFFECT_CLASS_PRIOR", "train")
    monkeypatch.setenv("JEFFREY_AFFECT_LOG_DIR", str(tmp_path))
    config = AffectConfig()
    assert (config.log_text_chars, config.class_prior, config.log_dir) == (7, "train", tmp_path)


def test_an_empty_environment_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JEFFREY_AFFECT_ARTIFACTS_DIR", "")
    monkeypatch.setenv("JEFFREY_AFFECT_LOG_DIR", "")
    defaults = AffectConfig.model_construct()
    config = AffectConfig()
    assert (config.artifacts_dir, config.log_dir) == (defaults.artifacts_dir, defaults.log_dir)
    assert config.artifacts_dir != Path(".")


def test_encoder_without_the_protocol_is_rejected() -> None:
    with pytest.raises(TypeError, match="encode"):
        AffectClassifier(AffectConfig(log_enabled=False), encoder=object())  # type: ignore[arg-type]


def test_an_artifacts_dir_that_is_not_a_directory_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Not a classifier that quietly serves only the regex route (and exports a bare encoder).
    a_file = tmp_path / "manifest.json"
    a_file.write_text("{}")
    for path in (tmp_path / "no-such-dir", a_file):
        with pytest.raises(ValueError, match="is not a directory: give the one"):
            AffectConfig(artifacts_dir=path)
        monkeypatch.setenv("JEFFREY_AFFECT_ARTIFACTS_DIR", str(path))
        with pytest.raises(ValueError, match="is not a directory"):
            AffectConfig()
        monkeypatch.delenv("JEFFREY_AFFECT_ARTIFACTS_DIR")
    assert AffectConfig(artifacts_dir=tmp_path).artifacts_dir == tmp_path


def test_settings_that_are_not_an_affect_config_are_rejected_naming_what_to_pass() -> None:
    for bad in ({"log_enabled": False}, "logs", 0):
        with pytest.raises(TypeError, match=r"AffectConfig\(\*\*settings\)"):
            AffectClassifier(bad)  # type: ignore[arg-type]


def test_results_are_json_serialisable(make_classifier: Make) -> None:
    r = make_classifier().classify("wow!")
    assert AffectResult.model_validate(json.loads(r.model_dump_json())) == r


def test_the_classifiers_state_is_read_only(make_classifier: Make) -> None:
    clf = make_classifier(log_enabled=False)
    for name in ("config", "encoder", "artifacts", "class_prior", "model_version"):
        with pytest.raises(AttributeError):
            setattr(clf, name, None)
