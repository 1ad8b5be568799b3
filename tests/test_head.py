"""The linear head at run time: scikit-learn's analyzers without scikit-learn, the fitted weights
folded exactly, the committed artifacts' scores kept through the change of file format, and no
sklearn, scipy or joblib in a process that builds a classifier and scores."""

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jeffrey_affect import EMOTIONS, AffectClassifier
from jeffrey_affect._data import CHAT_TRAIN, load_chat_set
from jeffrey_affect._fit import HeadFit, _vectorizer
from jeffrey_affect._head import ANALYZERS, LinearHead, char_wb_ngrams, word_ngrams

Make = Callable[..., AffectClassifier]
REPO = Path(__file__).resolve().parents[1]
COMMITTED_SCORES = Path(__file__).parent / "fixtures" / "committed_scores.json"
"""Router scores of the committed artifacts on hand-written turns (the torch encoder, the uniform
prior), recorded from linear_head.joblib before the head left pickle."""

TRICKY = (
    " \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000.,;:!?'\"-_()@#0123456789"
    "aAbBzZéÉß\u0130\u0131\u01c5\u0301😡🙂中文"
)
"""Whitespace of many kinds (str.split() sees it all), punctuation, digits, letters whose lowercase
changes length or needs a combining mark, emoji."""
TEXTS = st.text(alphabet=st.sampled_from(TRICKY), max_size=80) | st.text(max_size=300)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS)
@example("")
@example("   ")
@example("a b  c\t\td")
@example("İstanbul ÇA VA? ǅemal")
def test_word_ngrams_equal_sklearns_analyzer(text: str) -> None:
    assert word_ngrams(text) == _vectorizer(ANALYZERS["words"]).build_analyzer()(text)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS)
@example("")
@example("   ")
@example("a ab abc abcd abcde abcdef")
@example("x\u2028y\x85z\xa0w")
def test_char_wb_ngrams_equal_sklearns_analyzer(text: str) -> None:
    """The same n-grams as often each: their order is free, the counts are what the head reads."""
    expected = _vectorizer(ANALYZERS["chars"]).build_analyzer()(text)
    assert Counter(char_wb_ngrams(text)) == Counter(expected)


@pytest.fixture(scope="module")
def fitted() -> tuple[HeadFit, LinearHead, list[str]]:
    """A small head fitted on chat turns and random embeddings: seconds, not minutes."""
    chat = load_chat_set(CHAT_TRAIN)
    texts, labels = chat.texts[::8], chat.labels[::8]
    embeddings = np.random.default_rng(0).normal(size=(len(texts), 16))
    fit = HeadFit(word_features=800, char_features=3000).fit(texts, embeddings, labels)
    fit.calibrate(texts[:150], embeddings[:150], labels[:150])
    return fit, fit.head(), texts


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_runtime_head_equals_sklearns_decision_function(
    fitted: tuple[HeadFit, LinearHead, list[str]], data: st.DataObject
) -> None:
    """The folded n-grams must be sklearn's features times the weights, n-gram for n-gram."""
    fit, head, known = fitted
    texts = data.draw(st.lists(st.sampled_from(known) | TEXTS, min_size=1, max_size=4))
    embeddings = np.random.default_rng(len(texts)).normal(size=(len(texts), 16))
    expected = (
        fit.model_.decision_function(fit.features(texts, embeddings)) / fit.temperature_ + fit.bias_
    )
    np.testing.assert_allclose(head.logits(texts, embeddings), expected, rtol=1e-10, atol=1e-12)


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
    for case, r in zip(cases, results, strict=True):
        assert (r.route, r.emotion) == ("linear_head", case["emotion"]), case["text"]
        assert max(abs(r.scores[e] - case["scores"][e]) for e in EMOTIONS) <= 1e-9, case["text"]


RUNTIME_IMPORTS = """
import sys

import numpy as np

from jeffrey_affect import AffectClassifier, AffectConfig


class FakeEncoder:
    name = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = 384

    def encode(self, texts):
        rows = np.random.default_rng(0).normal(size=(len(texts), self.dimension))
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


clf = AffectClassifier(AffectConfig(log_enabled=False), encoder=FakeEncoder())
assert clf.artifacts.head is not None, clf.artifacts.head_problem
assert clf.classify("the parcel never came and I'm furious").route == "linear_head"
print(sorted(m for m in ("sklearn", "scipy", "joblib") if m in sys.modules))
"""


def test_building_and_scoring_import_neither_sklearn_nor_scipy_nor_joblib() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUNTIME_IMPORTS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
