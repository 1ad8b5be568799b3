"""Route 1 at run time: the linear head's weights and vocabularies, scored with numpy alone.

Fitting it needs scikit-learn and scipy (``_fit.py``); scoring needs neither, so building a
classifier neither imports them nor unpickles anything.
"""

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._lexicon import lexicon_features

ANALYZERS: dict[str, dict[str, Any]] = {
    "words": {
        "analyzer": "word",
        "lowercase": True,
        "token_pattern": r"(?u)\b\w\w+\b",
        "ngram_range": [1, 2],
        "sublinear_tf": True,
        "use_idf": True,
        "norm": "l2",
    },
    "chars": {
        "analyzer": "char_wb",
        "lowercase": True,
        "ngram_range": [2, 5],
        "sublinear_tf": True,
        "use_idf": True,
        "norm": "l2",
    },
}
"""scikit-learn's TfidfVectorizer settings that training fits with and this module implements;
a head file that asks for others is refused."""

_TOKEN_RE = re.compile(ANALYZERS["words"]["token_pattern"])
_CHAR_NGRAM_RES = [
    re.compile(rf"(?=(.[^ ]{{{n - 2}}}.))")
    for n in range(ANALYZERS["chars"]["ngram_range"][0], ANALYZERS["chars"]["ngram_range"][1] + 1)
]


def word_ngrams(text: str) -> list[str]:
    """scikit-learn's word analyzer for ``ANALYZERS["words"]``: the tokens, then adjacent pairs."""
    tokens: list[str] = _TOKEN_RE.findall(text.lower())
    return tokens + list(map(" ".join, pairwise(tokens)))


def char_wb_ngrams(text: str) -> list[str]:
    """scikit-learn's char_wb analyzer for ``ANALYZERS["chars"]``, in another order: the 2- to
    5-grams of each word padded with a space, a padded word whole when it is that short.

    Joined by single spaces, the padded words share their pads, and the n-grams inside one word
    are exactly those with no space strictly inside; a lookahead regex finds them all, overlapping,
    in one call per n instead of a Python step per n-gram.
    """
    words = text.lower().split()
    if not words:
        return []
    padded = f" {' '.join(words)} "
    ngrams: list[str] = []
    for pattern in _CHAR_NGRAM_RES:
        ngrams += pattern.findall(padded)
    return ngrams


class Vocabularies(BaseModel):
    """Each TF-IDF block's terms in feature order: a term's index is its row in the weights."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    words: list[str]
    chars: list[str]


class HeadSpec(BaseModel):
    """``linear_head.json``: what the arrays in ``linear_head.npz`` need besides numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1]
    dimension: int = Field(gt=0)
    temperature: float = Field(gt=0, allow_inf_nan=False)
    analyzers: dict[str, dict[str, Any]]
    vocabularies: Vocabularies

    @field_validator("analyzers")
    @classmethod
    def _implemented(cls, analyzers: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        if analyzers != ANALYZERS:
            raise ValueError(
                "these n-gram settings are not the ones this version implements: retrain the "
                "artifacts with `jeffrey-affect train` or install the version that made them"
            )
        return analyzers


class _FoldedNgrams:
    """One TF-IDF block folded into its slice of the head's weights.

    Sparse matrices cost more than the encoder's margin on one turn: this does sublinear tf, idf,
    l2 norm and the dot with the weights on the few n-grams a turn has.
    """

    def __init__(
        self,
        analyze: Callable[[str], list[str]],
        terms: Sequence[str],
        idf: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        self.analyze = analyze
        self.vocabulary = {term: i for i, term in enumerate(terms)}
        if len(self.vocabulary) != len(terms):
            raise ValueError("a vocabulary lists a term twice")
        self.idf = idf
        self.weights = np.ascontiguousarray(weights)  # (n_features, n_classes)

    def __call__(self, text: str) -> np.ndarray:
        counts = Counter(map(self.vocabulary.get, self.analyze(text)))
        counts.pop(None, None)  # n-grams outside the vocabulary
        if not counts:
            return np.zeros(self.weights.shape[1])
        index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[index]
        values /= np.sqrt(values @ values)
        scores: np.ndarray = values @ self.weights[index]
        return scores


class LinearHead:
    """Logistic regression on the embedding, TF-IDF word and character n-grams and lexicon scores.

    A small encoder blurs the cues that carry emotion in chat ("ugh", "wtf", "ew", "!!!"); the
    lexical features keep them, and staying linear keeps the head fast and explainable. Each
    block's weights arrive with its feature scale folded in; ``logits`` divides by the calibrated
    temperature and adds the per-class biases, so softmax(logits) is a calibrated probability under
    the training prior, from which ``class_prior`` moves it.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], spec: HeadSpec) -> None:
        words, chars = spec.vocabularies.words, spec.vocabularies.chars
        classes = len(EMOTIONS)
        shapes = {
            "embedding_weights": (spec.dimension, classes),
            "word_weights": (len(words), classes),
            "word_idf": (len(words),),
            "char_weights": (len(chars), classes),
            "char_idf": (len(chars),),
            "lexicon_weights": (classes, classes),
            "intercept": (classes,),
            "bias": (classes,),
        }
        if missing := [name for name in shapes if name not in arrays]:
            raise ValueError(f"arrays {missing} are missing")
        self.arrays = {name: np.asarray(arrays[name], dtype=np.float64) for name in shapes}
        self.spec = spec
        for name, shape in shapes.items():
            if self.arrays[name].shape != shape:
                raise ValueError(f"{name} has shape {self.arrays[name].shape}, expected {shape}")
            if not np.isfinite(self.arrays[name]).all():
                raise ValueError(f"{name} holds non-finite values")
        a = self.arrays
        self._words = _FoldedNgrams(word_ngrams, words, a["word_idf"], a["word_weights"])
        self._chars = _FoldedNgrams(char_wb_ngrams, chars, a["char_idf"], a["char_weights"])

    @property
    def dimension(self) -> int:
        return self.spec.dimension

    def logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        if embeddings.shape[1] != self.dimension:
            raise ValueError(
                f"embedding dimension {embeddings.shape[1]} != head's {self.dimension}"
            )
        a = self.arrays
        raw: np.ndarray = (
            embeddings.astype(np.float64) @ a["embedding_weights"]
            + lexicon_features(texts) @ a["lexicon_weights"]
            + np.asarray([self._words(t) + self._chars(t) for t in texts]).reshape(len(texts), -1)
            + a["intercept"]
        )
        logits: np.ndarray = raw / self.spec.temperature + a["bias"]
        return logits
