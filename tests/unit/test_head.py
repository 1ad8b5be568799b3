"""The linear head at run time: scikit-learn's analyzers without scikit-learn, and no sklearn,
scipy or joblib in a process that builds a classifier and scores."""

import subprocess
import sys
from collections import Counter

from hypothesis import example, given, settings

from jeffrey_affect._fit import _vectorizer
from jeffrey_affect._head import ANALYZERS, char_wb_ngrams, word_ngrams
from tests.helpers import REPO, TRICKY_TEXTS


@settings(max_examples=400, deadline=None)
@given(text=TRICKY_TEXTS)
@example("")
@example("   ")
@example("a b  c\t\td")
@example("İstanbul ÇA VA? ǅemal")
def test_word_ngrams_equal_sklearns_analyzer(text: str) -> None:
    assert word_ngrams(text) == _vectorizer(ANALYZERS["words"]).build_analyzer()(text)


@settings(max_examples=400, deadline=None)
@given(text=TRICKY_TEXTS)
@example("")
@example("   ")
@example("a ab abc abcd abcde abcdef")
@example("x\u2028y\x85z\xa0w")
def test_char_wb_ngrams_equal_sklearns_analyzer(text: str) -> None:
    """The same n-grams as often each: their order is free, the counts are what the head reads."""
    expected = _vectorizer(ANALYZERS["chars"]).build_analyzer()(text)
    assert Counter(char_wb_ngrams(text)) == Counter(expected)


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
