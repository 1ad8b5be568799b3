"""Route 1: a linear head over the sentence embedding and lexical features, calibrated on dev."""

from collections import Counter
from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from jeffrey_affect._lexicon import lexicon_features


class _FoldedNgrams:
    """One fitted TF-IDF vectorizer folded into its slice of the head's weights.

    sklearn's ``transform`` builds sparse matrices per call, which costs more than the encoder's
    margin on one turn. This keeps sklearn's analyzer, vocabulary and idf and does the rest
    (sublinear tf, idf, l2 norm, dot with the weights) on the few n-grams a turn has; tests hold it
    equal to ``transform`` followed by the weights.
    """

    def __init__(self, vectorizer: TfidfVectorizer, weights: np.ndarray) -> None:
        if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
            raise ValueError("folding expects sublinear_tf, use_idf and l2 norm")
        self.analyze: Callable[[str], list[str]] = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf: np.ndarray = vectorizer.idf_
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
    lexical features keep them, and staying linear keeps the head fast and explainable. Classes are
    weighted to balance, so the rare ones (fear, disgust) shape the boundaries; a temperature and
    per-class biases fitted on dev then make softmax(logits) a calibrated probability under the
    training prior again, from which ``class_prior`` moves it.
    """

    def __init__(
        self,
        *,
        C: float = 2.0,
        embedding_weight: float = 2.0,
        word_features: int = 20000,
        char_features: int = 50000,
        lexicon_weight: float = 3.0,
        random_state: int = 42,
    ) -> None:
        self.C = C
        self.embedding_weight = embedding_weight
        self.word_features = word_features
        self.char_features = char_features
        self.lexicon_weight = lexicon_weight
        self.random_state = random_state

    def _features(self, texts: Sequence[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        return sparse.hstack(
            [
                sparse.csr_matrix(embeddings * self.embedding_weight),
                self.words_.transform(texts),
                self.chars_.transform(texts),
                sparse.csr_matrix(lexicon_features(texts) * self.lexicon_weight),
            ],
            format="csr",
        )

    def fit(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        labels: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> "LinearHead":
        """``sample_weight`` weighs each corpus against the others, on top of class balance."""
        self.words_ = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, max_features=self.word_features, sublinear_tf=True
        ).fit(texts)
        self.chars_ = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            min_df=3,
            max_features=self.char_features,
            sublinear_tf=True,
        ).fit(texts)
        vars(self).pop("_folded", None)  # folded from the previous fit's weights
        self.model_ = LogisticRegression(
            C=self.C, max_iter=3000, class_weight="balanced", random_state=self.random_state
        ).fit(self._features(texts, embeddings), labels, sample_weight=sample_weight)
        self.temperature_ = 1.0
        self.bias_ = np.zeros(len(self.model_.classes_))
        self.dimension_ = embeddings.shape[1]
        return self

    def calibrate(
        self, texts: Sequence[str], embeddings: np.ndarray, labels: np.ndarray
    ) -> "LinearHead":
        """Fit the temperature and biases that minimise negative log-likelihood on held-out data."""
        raw = self.model_.decision_function(self._features(texts, embeddings))
        rows = np.arange(len(labels))

        def nll(params: np.ndarray) -> float:
            logits = raw / params[0] + params[1:]
            return float(-log_softmax(logits, axis=1)[rows, labels].mean())

        start = np.r_[1.0, np.zeros(raw.shape[1])]
        bounds = [(0.05, 20.0)] + [(None, None)] * raw.shape[1]
        fitted = minimize(nll, start, bounds=bounds, method="L-BFGS-B").x
        self.temperature_ = float(fitted[0])
        self.bias_ = fitted[1:] - fitted[1:].mean()
        return self

    def __getstate__(self) -> dict[str, Any]:
        """``_folded`` is derived from the fitted parts: rebuilt on first use, never pickled."""
        return {k: v for k, v in vars(self).items() if k != "_folded"}

    @cached_property
    def _folded(self) -> tuple[np.ndarray, _FoldedNgrams, _FoldedNgrams, np.ndarray]:
        """The weights split per feature block, each block's scale folded in."""
        coef = self.model_.coef_.T
        words_end = self.dimension_ + len(self.words_.vocabulary_)
        chars_end = words_end + len(self.chars_.vocabulary_)
        return (
            coef[: self.dimension_] * self.embedding_weight,
            _FoldedNgrams(self.words_, coef[self.dimension_ : words_end]),
            _FoldedNgrams(self.chars_, coef[words_end:chars_end]),
            coef[chars_end:] * self.lexicon_weight,
        )

    def logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """The same linear map as ``decision_function`` on ``_features``, without the sparse
        matrices: on one turn they cost more than the arithmetic."""
        if embeddings.shape[1] != self.dimension_:
            raise ValueError(
                f"embedding dimension {embeddings.shape[1]} != head's {self.dimension_}"
            )
        embedding_weights, words, chars, lexicon_weights = self._folded
        raw: np.ndarray = (
            embeddings.astype(np.float64) @ embedding_weights
            + lexicon_features(texts) @ lexicon_weights
            + np.asarray([words(t) + chars(t) for t in texts]).reshape(len(texts), -1)
            + self.model_.intercept_
        )
        logits: np.ndarray = raw / self.temperature_ + self.bias_
        return logits
