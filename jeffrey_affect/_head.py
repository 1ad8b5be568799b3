"""Route 1: a linear head over the sentence embedding and lexical features, calibrated on dev."""

from collections.abc import Sequence

import numpy as np
import sklearn
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import log_softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._lexicon import lexicon_scores


def lexicon_features(texts: Sequence[str]) -> np.ndarray:
    """The regex lexicon's eight scores per text, so the head can weigh chat cues it has learnt."""
    rows = [lexicon_scores(t) for t in texts]
    return np.asarray([[row[e] for e in EMOTIONS] for row in rows], dtype=np.float64)


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

    def fit(self, texts: Sequence[str], embeddings: np.ndarray, labels: np.ndarray) -> "LinearHead":
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
        self.model_ = LogisticRegression(
            C=self.C, max_iter=3000, class_weight="balanced", random_state=self.random_state
        ).fit(self._features(texts, embeddings), labels)
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

    def logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        if embeddings.shape[1] != self.dimension_:
            raise ValueError(
                f"embedding dimension {embeddings.shape[1]} != head's {self.dimension_}"
            )
        # sklearn's per-call input checks cost more than the arithmetic on one turn; the inputs
        # are ours and finite (the router checked), so skip them and apply the linear map directly.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            features = self._features(texts, embeddings)
        raw = features @ self.model_.coef_.T + self.model_.intercept_
        return np.asarray(raw, dtype=np.float64) / self.temperature_ + self.bias_
