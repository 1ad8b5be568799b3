"""Route 1 at run time: the linear head's weights, vocabulary and tokenizer, scored with numpy and
the tokenizers library alone.

Fitting it needs scikit-learn and scipy (``_fit.py``); scoring needs neither, so building a
classifier neither imports them nor unpickles anything.
"""

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import pairwise
from math import log, sqrt
from typing import Any, Literal, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator
from tokenizers import Tokenizer

from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._lexicon import lexicon_features

NGRAMS: dict[str, Any] = {
    "units": "tokenizer tokens",
    "ngram_range": [1, 2],
    "sublinear_tf": True,
    "use_idf": True,
    "norm": "l2",
}
"""The TF-IDF settings that training fits with and this module implements: the encoder
tokenizer's subword tokens and their adjacent pairs. The tokenizer splits and normalises in Rust,
where a regex word and character n-gram analysis costs a Python step per n-gram; a head file that
asks for other settings is refused."""


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
    tokens = dict(zip(distinct, (e.tokens for e in encodings), strict=True))
    return [[token for chunk in chunks for token in tokens[chunk]] for chunks in chunked]


def token_ngrams(tokens: list[str]) -> list[str]:
    """The analyzer scikit-learn fits with: the tokens, then adjacent pairs joined by a space
    (which no token holds)."""
    return tokens + list(map(" ".join, pairwise(tokens)))


CHUNK_CACHE_SIZE = 2**14
CACHED_CHUNK_CHARS = 24
"""A head keeps the token ids of up to CHUNK_CACHE_SIZE chunks of at most CACHED_CHUNK_CHARS
characters: under 10 MB however hostile the traffic. A call into the tokenizer costs more than the
rest of the head; longer chunks (hashes, pasted logs) are rare in chat and tokenized each time."""


class HeadSpec(BaseModel):
    """``linear_head.json``: what the arrays in ``linear_head.npz`` need besides numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[2]
    dimension: int = Field(gt=0)
    temperature: float = Field(gt=0, allow_inf_nan=False)
    ngrams: dict[str, Any]
    vocabulary: list[str]
    """The n-grams in feature order: a term's index is its row in ``ngram_weights``."""

    @field_validator("ngrams")
    @classmethod
    def _implemented(cls, ngrams: dict[str, Any]) -> dict[str, Any]:
        if ngrams != NGRAMS:
            raise ValueError(
                "these n-gram settings are not the ones this version implements: retrain the "
                "artifacts with `jeffrey-affect train` or install the version that made them"
            )
        return ngrams


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
        if len(set(spec.vocabulary)) != len(spec.vocabulary):
            raise ValueError("the vocabulary lists a term twice")
        self._unigrams: dict[int, int] = {}
        self._pairs: dict[tuple[int, int], int] = {}
        token_ids = tokenizer.get_vocab(with_added_tokens=True)
        for feature, term in enumerate(spec.vocabulary):
            first, pair, second = term.partition(" ")
            ids = (token_ids.get(first), token_ids.get(second)) if pair else (token_ids.get(first),)
            if None in ids:
                raise ValueError(f"vocabulary term {term!r} is not one or two tokenizer tokens")
            if pair:
                self._pairs[cast(tuple[int, int], ids)] = feature
            else:
                self._unigrams[cast(int, ids[0])] = feature
        self._idf: list[float] = self.arrays["ngram_idf"].tolist()

        def chunk_ids(chunk: str) -> list[int]:
            ids: list[int] = tokenizer.encode(chunk, add_special_tokens=False).ids
            return ids

        cached = lru_cache(maxsize=CHUNK_CACHE_SIZE)(chunk_ids)

        def text_ids(text: str) -> list[int]:
            return [
                i
                for chunk in CHUNKS.findall(text)
                for i in (cached(chunk) if len(chunk) <= CACHED_CHUNK_CHARS else chunk_ids(chunk))
            ]

        self._token_ids = text_ids

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
            + self._ngram_scores(texts)
            + a["intercept"]
        )
        logits: np.ndarray = raw / self.spec.temperature + a["bias"]
        return logits

    def _ngram_scores(self, texts: Sequence[str]) -> np.ndarray:
        """The n-gram block's share of each text's logits, as scikit-learn's TF-IDF times the
        weights would give it: Python gathers a turn's few n-grams by token id, numpy does the
        arithmetic in three calls."""
        scores = np.zeros((len(texts), len(EMOTIONS)))
        for row, text in enumerate(texts):
            ids = self._token_ids(text)
            counts = Counter(f for f in map(self._unigrams.get, ids) if f is not None)
            counts.update(f for f in map(self._pairs.get, pairwise(ids)) if f is not None)
            if not counts:
                continue
            idf = self._idf
            values = [(1.0 + log(n)) * idf[f] for f, n in counts.items()]
            norm = sqrt(sum(v * v for v in values))
            weights = self.arrays["ngram_weights"][np.fromiter(counts, np.intp, len(counts))]
            scores[row] = np.asarray(values) @ weights / norm
        return scores
