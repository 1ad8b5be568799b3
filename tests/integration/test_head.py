"""The linear head against what made it: the fitted weights folded exactly, and the committed
artifacts' scores kept as they were recorded."""

import json
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jeffrey_affect import AffectClassifier
from jeffrey_affect._config import DEFAULT_ENCODER
from jeffrey_affect._data import CHAT_TRAIN, load_chat_set
from jeffrey_affect._encoders.base import local_model_dir
from jeffrey_affect._fit import HeadFit
from jeffrey_affect._head import LinearHead, load_tokenizer
from tests.helpers import FIXTURES, SCORE_TOLERANCE, TRICKY_TEXTS, sure_label

Make = Callable[..., AffectClassifier]
COMMITTED_SCORES = FIXTURES / "committed_scores.json"
"""Router scores of the committed artifacts on hand-written turns (the torch encoder, the uniform
prior), recorded when they were trained: a change to how the head scores must not move them."""


@pytest.mark.recorded_scores
def test_committed_artifacts_reproduce_their_recorded_scores(make_classifier: Make) -> None:
    recorded = json.loads(COMMITTED_SCORES.read_text(encoding="utf-8"))
    clf = make_classifier(log_enabled=False, class_prior=recorded["class_prior"])
    assert (clf.model_version, clf.encoder.backend) == (  # type: ignore[attr-defined]
        recorded["model_version"],
        recorded["encoder_backend"],
    )
    cases = recorded["cases"]
    assert len(cases) >= 60
    results = clf.classify_batch([case["text"] for case in cases])
    assert sum(sure_label(case["scores"]) for case in cases) >= 60
    for case, r in zip(cases, results, strict=True):
        assert r.route == "linear_head", case["text"]
        assert r.emotion == case["emotion"] or not sure_label(case["scores"]), case["text"]
        assert r.scores == pytest.approx(case["scores"], abs=SCORE_TOLERANCE), case["text"]


@pytest.fixture(scope="module")
def fitted() -> tuple[HeadFit, LinearHead, list[str]]:
    """A small head fitted on chat turns and random embeddings: seconds, not minutes."""
    chat = load_chat_set(CHAT_TRAIN)
    texts, labels = chat.texts[::8], chat.labels[::8]
    embeddings = np.random.default_rng(0).normal(size=(len(texts), 16))
    tokenizer = load_tokenizer((local_model_dir(DEFAULT_ENCODER) / "tokenizer.json").read_text())
    fit = HeadFit(tokenizer, ngram_features=3000).fit(texts, embeddings, labels)
    fit.calibrate(texts[:150], embeddings[:150], labels[:150])
    return fit, fit.head(), texts


@settings(max_examples=150)
@given(data=st.data())
def test_runtime_head_equals_sklearns_decision_function(
    fitted: tuple[HeadFit, LinearHead, list[str]], data: st.DataObject
) -> None:
    """The folded n-grams must be sklearn's features times the weights, n-gram for n-gram, for a
    batch as for one text."""
    fit, head, known = fitted
    texts = data.draw(st.lists(st.sampled_from(known) | TRICKY_TEXTS, min_size=1, max_size=4))
    embeddings = np.random.default_rng(len(texts)).normal(size=(len(texts), 16))
    assert_equals_sklearn(fit, head, texts, embeddings)


def test_runtime_head_equals_sklearns_on_words_too_long_to_cache(
    fitted: tuple[HeadFit, LinearHead, list[str]],
) -> None:
    fit, head, known = fitted
    texts = [f"{known[0]} {'thankyou' * 5} so {'sorry' * 6}!", "ugh" * 40, "😡" * 30]
    embeddings = np.random.default_rng(1).normal(size=(len(texts), 16))
    assert_equals_sklearn(fit, head, texts, embeddings)


def assert_equals_sklearn(
    fit: HeadFit, head: LinearHead, texts: list[str], embeddings: np.ndarray
) -> None:
    """The runtime head's logits are the fitted model's calibrated decision function."""
    expected = (
        fit.model_.decision_function(fit.features(texts, embeddings)) / fit.temperature_ + fit.bias_
    )
    np.testing.assert_allclose(head.logits(texts, embeddings), expected, rtol=1e-10, atol=1e-12)
