"""Route 1 at run time: the linear head's weights and vocabularies, scored with numpy alone.

Fitting it needs scikit-learn and scipy (``_fit.py``); scoring needs neither, so building a
classifier neither imports them nor unpickles anything.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from itertools import pairwise, repeat
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


WORD_CACHE_SIZE = 2**14
CACHED_WORD_CHARS = 24
"""A head keeps the character n-gram indices of up to WORD_CACHE_SIZE words of at most
CACHED_WORD_CHARS characters: under 20 MB however hostile the traffic. Longer words (links,
tokens, pasted logs) are rare in chat and looked up each time."""
_NONE = np.zeros(0, dtype=np.intp)


def word_ngrams(text: str) -> list[str]:
    """scikit-learn's word analyzer for ``ANALYZERS["words"]``: the tokens, then adjacent pairs."""
    tokens: list[str] = _TOKEN_RE.findall(text.lower())
    return tokens + list(map(" ".join, pairwise(tokens)))


def char_wb_ngrams(text: str) -> list[str]:
    """scikit-learn's char_wb analyzer for ``ANALYZERS["chars"]``, in another order: the 2- to
    5-grams of each word padded with a space, a padded word whole when it is that short."""
    return [ngram for word in text.lower().split() for ngram in _padded_word_ngrams(word)]


def _padded_word_ngrams(word: str) -> list[str]:
    """One lowercased word's char_wb n-grams: a lookahead regex finds each n's, overlapping, in
    one call instead of a Python step per n-gram."""
    padded = f" {word} "
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
    l2 norm and the dot with the weights on the few n-grams a turn has, from their vocabulary
    indices, repeats included.
    """

    def __init__(
        self,
        indices: Callable[[str], np.ndarray],
        idf: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        self.indices = indices
        self.idf = idf
        self.weights = np.ascontiguousarray(weights)  # (n_features, n_classes)

    def __call__(self, text: str) -> np.ndarray:
        index, counts = np.unique(self.indices(text), return_counts=True)
        if not index.size:
            return np.zeros(self.weights.shape[1])
        values = (1.0 + np.log(counts)) * self.idf[index]
        values /= np.sqrt(values @ values)
        scores: np.ndarray = values @ self.weights[index]
        return scores


def _vocabulary(terms: Sequence[str]) -> dict[str, int]:
    vocabulary = {term: i for i, term in enumerate(terms)}
    if len(vocabulary) != len(terms):
        raise ValueError("a vocabulary lists a term twice")
    return vocabulary


def _known(vocabulary: dict[str, int], ngrams: list[str]) -> np.ndarray:
    """The vocabulary indices of ``ngrams``, those outside it left out."""
    found = np.fromiter(map(vocabulary.get, ngrams, repeat(-1)), dtype=np.intp, count=len(ngrams))
    return found[found >= 0]


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
        word_index, char_index = _vocabulary(words), _vocabulary(chars)

        # A char_wb n-gram never spans two words: each word's indices are looked up once, and
        # chat reuses few words often.
        def word_indices(word: str) -> np.ndarray:
            return _known(char_index, _padded_word_ngrams(word))

        cached = lru_cache(maxsize=WORD_CACHE_SIZE)(word_indices)

        def per_word(word: str) -> np.ndarray:
            return cached(word) if len(word) <= CACHED_WORD_CHARS else word_indices(word)

        self._words = _FoldedNgrams(
            lambda text: _known(word_index, word_ngrams(text)), a["word_idf"], a["word_weights"]
        )
        self._chars = _FoldedNgrams(
            lambda text: np.concatenate([per_word(w) for w in text.lower().split()] or [_NONE]),
            a["char_idf"],
            a["char_weights"],
        )

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
