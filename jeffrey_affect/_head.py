"""Route 1 at run time: the linear head's weights, vocabulary and tokenizer, scored with numpy and
the tokenizers library alone.

Fitting it needs scikit-learn and scipy (``_fit.py``); scoring needs neither, so building a
classifier neither imports them nor unpickles anything.
"""

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import pairwise, repeat
from math import hypot, log
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from tokenizers import Tokenizer

from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._lexicon import lexicon_features

NGRAMS: dict[str, Any] = {
    "units": "tokenizer tokens, an unknown chunk as itself",
    "ngram_range": [1, 2],
    "sublinear_tf": True,
    "use_idf": True,
    "norm": "l2",
}
"""The TF-IDF settings that training fits with and this module implements: the encoder
tokenizer's subword tokens and their adjacent pairs. The tokenizer splits and normalises in Rust,
where a regex word and character n-gram analysis costs a Python step per n-gram. A chunk the
tokenizer cannot read (an emoji, to MiniLM's) stands for itself rather than as its unknown token,
so that "😡" and "🙂" stay apart. A head file that asks for other settings is refused."""


def load_tokenizer(serialized: str) -> Tokenizer:
    """A head tokenizer from its JSON, cutting and padding nothing, whatever the JSON says."""
    tokenizer = Tokenizer.from_str(serialized)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


CHUNKS = re.compile(r"\w+|\S")
"""Words and single other characters: the head tokenizes a text chunk by chunk, so that the runtime
can cache each chunk's tokens. Chat reuses few chunks often; BERT-style tokenizers split words from
punctuation anyway."""


def tokenize(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[str]]:
    """Each text's tokens as the head reads them, chunk by chunk, without special tokens."""
    chunked = [CHUNKS.findall(text) for text in texts]
    distinct = sorted({chunk for chunks in chunked for chunk in chunks})
    encodings = tokenizer.encode_batch(distinct, add_special_tokens=False)
    unknown = unknown_token(tokenizer)
    tokens = {
        c: chunk_tokens(c, e.tokens, unknown) for c, e in zip(distinct, encodings, strict=True)
    }
    return [[token for chunk in chunks for token in tokens[chunk]] for chunks in chunked]


def unknown_token(tokenizer: Tokenizer) -> str | None:
    """What the tokenizer's model gives for what it cannot read; None if it reads everything."""
    unknown: str | None = getattr(tokenizer.model, "unk_token", None)
    return unknown


def chunk_tokens(chunk: str, tokens: list[str], unknown: str | None) -> tuple[str, ...]:
    """A chunk's tokens, or the chunk itself where the tokenizer read it as unknown."""
    return (chunk,) if unknown is not None and tokens == [unknown] else tuple(tokens)


def token_ngrams(tokens: list[str]) -> list[str]:
    """The analyzer scikit-learn fits with: the tokens, then adjacent pairs joined by a space
    (which no token holds)."""
    return tokens + list(map(" ".join, pairwise(tokens)))


CHUNK_CACHE_SIZE = 2**14
CACHED_CHUNK_CHARS = 24
"""A head keeps the tokens of up to CHUNK_CACHE_SIZE chunks of at most CACHED_CHUNK_CHARS
characters: at most 30 MB however hostile the traffic (28 MiB measured for CJK chunks of 24
characters, a token each), a few MB for chat. A call into the tokenizer costs more than the
rest of the head; longer chunks (hashes, pasted logs) are rare in chat and tokenized each time."""


_OUTSIDE = -1
"""What an n-gram outside the vocabulary looks up as: no feature has that index."""

HEAD_FORMAT = 2
"""The ``linear_head.json`` layout this version reads and writes."""
_RETRAIN = "retrain the artifacts with `jeffrey-affect train` or install the version that made them"


class HeadSpec(BaseModel):
    """``linear_head.json``: what the arrays in ``linear_head.npz`` need besides numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int
    dimension: int = Field(gt=0)
    temperature: float = Field(gt=0, allow_inf_nan=False)
    ngrams: dict[str, Any]
    vocabulary: list[str]
    """The n-grams in feature order: a term's index is its row in ``ngram_weights``."""

    @field_validator("format")
    @classmethod
    def _readable(cls, value: int) -> int:
        if value != HEAD_FORMAT:
            raise ValueError(
                f"format {value} is not {HEAD_FORMAT}, which this version reads: {_RETRAIN}"
            )
        return value

    @field_validator("ngrams")
    @classmethod
    def _implemented(cls, ngrams: dict[str, Any]) -> dict[str, Any]:
        if ngrams != NGRAMS:
            raise ValueError(
                f"these n-gram settings are not the ones this version implements: {_RETRAIN}"
            )
        return ngrams

    @field_validator("vocabulary")
    @classmethod
    def _terms(cls, vocabulary: list[str]) -> list[str]:
        for term in vocabulary:
            first, pair, second = term.partition(" ")
            if not first or " " in second or (pair and not second):
                raise ValueError(f"term {term[:40]!r} is not one token or two")
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("a term is listed twice")
        return vocabulary


class LinearHead:
    """Logistic regression on the embedding, TF-IDF subword n-grams and lexicon scores.

    A small encoder blurs the cues that carry emotion in chat ("ugh", "wtf", "ew", "!!!"); the
    lexical features keep them, and staying linear keeps the head fast and explainable. Each
    block's weights arrive with its feature scale folded in; ``logits`` divides by the calibrated
    temperature and adds the per-class biases, so softmax(logits) is a calibrated probability under
    the training prior, from which ``class_prior`` moves it.

    Sparse matrices cost more than the encoder's margin on one turn: the n-gram block does
    sublinear tf, idf, l2 norm and the dot with the weights on the few n-grams a turn has.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], spec: HeadSpec, tokenizer: Tokenizer):
        classes = len(EMOTIONS)
        shapes = {
            "embedding_weights": (spec.dimension, classes),
            "ngram_weights": (len(spec.vocabulary), classes),
            "ngram_idf": (len(spec.vocabulary),),
            "lexicon_weights": (classes, classes),
            "intercept": (classes,),
            "bias": (classes,),
        }
        if missing := [name for name in shapes if name not in arrays]:
            raise ValueError(f"arrays {missing} are missing")
        self.arrays = {name: np.asarray(arrays[name], dtype=np.float64) for name in shapes}
        self.spec = spec
        self.tokenizer = tokenizer
        for name, shape in shapes.items():
            if self.arrays[name].shape != shape:
                raise ValueError(f"{name} has shape {self.arrays[name].shape}, expected {shape}")
            if not np.isfinite(self.arrays[name]).all():
                raise ValueError(f"{name} holds non-finite values")
        self._unigrams: dict[str, int] = {}
        self._pairs: dict[tuple[str, str], int] = {}
        for feature, term in enumerate(spec.vocabulary):
            first, pair, second = term.partition(" ")
            if pair:
                self._pairs[first, second] = feature
            else:
                self._unigrams[first] = feature
        self._idf: list[float] = self.arrays["ngram_idf"].tolist()
        # The temperature and the biases folded in once: each numpy call costs on every turn. The
        # n-gram block divides by the temperature itself rather than keep a second copy.
        scale = 1.0 / spec.temperature
        self._embedding_weights = self.arrays["embedding_weights"] * scale
        self._lexicon_weights = self.arrays["lexicon_weights"] * scale
        self._offset = self.arrays["intercept"] * scale + self.arrays["bias"]
        unknown = unknown_token(tokenizer)

        def read(chunk: str) -> tuple[str, ...]:
            tokens = tokenizer.encode(chunk, add_special_tokens=False).tokens
            return chunk_tokens(chunk, tokens, unknown)

        cached = lru_cache(maxsize=CHUNK_CACHE_SIZE)(read)

        def text_tokens(text: str) -> list[str]:
            return [
                token
                for chunk in CHUNKS.findall(text)
                for token in (cached(chunk) if len(chunk) <= CACHED_CHUNK_CHARS else read(chunk))
            ]

        self._tokens = text_tokens

    @property
    def dimension(self) -> int:
        return self.spec.dimension

    def logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        if embeddings.shape[1] != self.dimension:
            raise ValueError(
                f"embedding dimension {embeddings.shape[1]} != head's {self.dimension}"
            )
        logits: np.ndarray = (
            embeddings @ self._embedding_weights
            + lexicon_features(texts) @ self._lexicon_weights
            + self._ngram_scores(texts)
            + self._offset
        )
        return logits

    def _ngram_scores(self, texts: Sequence[str]) -> np.ndarray:
        """The n-gram block's share of each text's logits, as scikit-learn's TF-IDF times the
        weights would give it, over the temperature: Python counts a turn's few n-grams, numpy does
        the arithmetic in two calls."""
        scores = np.zeros((len(texts), len(EMOTIONS)))
        idf, ngram_weights = self._idf, self.arrays["ngram_weights"]
        temperature = self.spec.temperature
        for row, text in enumerate(texts):
            tokens = self._tokens(text)
            # map and Counter run in C; the n-grams outside the vocabulary count as _OUTSIDE
            counts = Counter(map(self._unigrams.get, tokens, repeat(_OUTSIDE)))
            counts.update(map(self._pairs.get, pairwise(tokens), repeat(_OUTSIDE)))
            del counts[_OUTSIDE]
            if not counts:
                continue
            values = [(1.0 + log(n)) * idf[f] for f, n in counts.items()]
            norm = hypot(*values) * temperature
            scores[row] = np.dot(values, ngram_weights[list(counts)]) / norm
        return scores
