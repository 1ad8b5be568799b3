"""Route 1: a linear head over the sentence embedding and word n-grams, temperature-calibrated."""

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


class LinearHead:
    """Logistic regression on ``[embedding * embedding_weight | tf-idf word 1-2-grams]``.

    The n-grams add what a small encoder blurs ("ugh", "wtf", "ew"); staying linear keeps it fast
    and explainable. ``logits`` are divided by a temperature fitted on dev, so softmax(logits) is a
    calibrated probability under the training prior (``log_prior``).
    """

    def __init__(
        self,
        *,
        C: float = 1.0,
        embedding_weight: float = 1.0,
        ngram_max_features: int = 20000,
        random_state: int = 42,
    ) -> None:
        self.C = C
        self.embedding_weight = embedding_weight
        self.ngram_max_features = ngram_max_features
        self.random_state = random_state

    def _features(self, texts: Sequence[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        ngrams = self.vectorizer_.transform(texts) if self.ngram_max_features else None
        dense = sparse.csr_matrix(embeddings * self.embedding_weight)
        return dense if ngrams is None else sparse.hstack([dense, ngrams], format="csr")

    def fit(self, texts: Sequence[str], embeddings: np.ndarray, labels: np.ndarray) -> "LinearHead":
        if self.ngram_max_features:
            self.vectorizer_ = TfidfVectorizer(
                ngram_range=(1, 2),
                min_df=2,
                max_features=self.ngram_max_features,
                sublinear_tf=True,
                lowercase=True,
            ).fit(texts)
        self.model_ = LogisticRegression(
            C=self.C, max_iter=2000, random_state=self.random_state
        ).fit(self._features(texts, embeddings), labels)
        counts = np.bincount(labels, minlength=len(self.model_.classes_)).astype(np.float64)
        self.log_prior_ = np.log(counts / counts.sum())
        self.temperature_ = 1.0
        self.dimension_ = embeddings.shape[1]
        return self

    def calibrate(
        self, texts: Sequence[str], embeddings: np.ndarray, labels: np.ndarray
    ) -> "LinearHead":
        """Fit the temperature that minimises negative log-likelihood on held-out data."""
        raw = self.model_.decision_function(self._features(texts, embeddings))

        def nll(t: float) -> float:
            return float(-log_softmax(raw / t, axis=1)[np.arange(len(labels)), labels].mean())

        self.temperature_ = float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)
        return self

    def logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        if embeddings.shape[1] != self.dimension_:
            raise ValueError(
                f"embedding dimension {embeddings.shape[1]} != head's {self.dimension_}"
            )
        raw = self.model_.decision_function(self._features(texts, embeddings))
        return np.asarray(raw, dtype=np.float64) / self.temperature_
