"""Fitting routes 1 and 2, for training only: scikit-learn and scipy make the arrays that the
runtime head and prototypes score with numpy alone."""

from collections.abc import Sequence
from typing import Any, Self

import numpy as np
from scipy import sparse
from scipy.optimize import minimize, minimize_scalar
from scipy.special import log_softmax
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from jeffrey_affect._head import ANALYZERS, HeadSpec, LinearHead, Vocabularies
from jeffrey_affect._lexicon import lexicon_features
from jeffrey_affect._prototypes import Prototypes


def _vectorizer(settings: dict[str, Any], **limits: Any) -> TfidfVectorizer:
    """scikit-learn wants ``ngram_range`` as a tuple; JSON keeps it as a list."""
    return TfidfVectorizer(**settings | {"ngram_range": tuple(settings["ngram_range"])}, **limits)


class HeadFit:
    """Fits ``LinearHead``: logistic regression on [embedding | TF-IDF word n-grams | TF-IDF
    character n-grams | lexicon scores], each block scaled by its weight.

    Classes are weighted to balance, so the rare ones (fear, disgust) shape the boundaries; a
    temperature and per-class biases fitted on dev then make softmax(logits) a calibrated
    probability under the training prior again.
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

    def features(self, texts: Sequence[str], embeddings: np.ndarray) -> sparse.csr_matrix:
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
    ) -> Self:
        """``sample_weight`` weighs each corpus against the others, on top of class balance."""
        self.words_ = _vectorizer(
            ANALYZERS["words"], min_df=2, max_features=self.word_features
        ).fit(texts)
        self.chars_ = _vectorizer(
            ANALYZERS["chars"], min_df=3, max_features=self.char_features
        ).fit(texts)
        self.model_ = LogisticRegression(
            C=self.C, max_iter=3000, class_weight="balanced", random_state=self.random_state
        ).fit(self.features(texts, embeddings), labels, sample_weight=sample_weight)
        self.dimension_ = embeddings.shape[1]
        self.temperature_ = 1.0
        self.bias_ = np.zeros(len(self.model_.classes_))
        return self

    def calibrate(self, texts: Sequence[str], embeddings: np.ndarray, labels: np.ndarray) -> Self:
        """Fit the temperature and biases that minimise negative log-likelihood on held-out data."""
        raw = self.model_.decision_function(self.features(texts, embeddings))
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

    def head(self) -> LinearHead:
        """The runtime head: the weights split per feature block, each block's scale folded in."""
        coef = self.model_.coef_.T
        dimension = self.dimension_
        words_end = dimension + len(self.words_.vocabulary_)
        chars_end = words_end + len(self.chars_.vocabulary_)
        spec = HeadSpec(
            format=1,
            dimension=dimension,
            temperature=self.temperature_,
            analyzers=ANALYZERS,
            vocabularies=Vocabularies(words=_terms(self.words_), chars=_terms(self.chars_)),
        )
        arrays = {
            "embedding_weights": coef[:dimension] * self.embedding_weight,
            "word_weights": coef[dimension:words_end],
            "word_idf": self.words_.idf_,
            "char_weights": coef[words_end:chars_end],
            "char_idf": self.chars_.idf_,
            "lexicon_weights": coef[chars_end:] * self.lexicon_weight,
            "intercept": self.model_.intercept_,
            "bias": self.bias_,
        }
        return LinearHead({k: np.ascontiguousarray(v) for k, v in arrays.items()}, spec)


def _terms(vectorizer: TfidfVectorizer) -> list[str]:
    """The vocabulary in feature order."""
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    return sorted(vocabulary, key=vocabulary.__getitem__)


def fit_prototypes(
    embeddings: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    prior_counts: np.ndarray | None = None,
) -> Prototypes:
    """``prior_counts`` (default: the labels' own) set the prior the logits carry."""
    lda = LinearDiscriminantAnalysis(solver="svd").fit(embeddings, labels)
    projection = lda.scalings_[:, : n_classes - 1]
    projected = (embeddings - lda.xbar_) @ projection
    centroids = np.stack([projected[labels == c].mean(axis=0) for c in range(n_classes)])
    if prior_counts is None:
        prior_counts = np.bincount(labels, minlength=n_classes)
    counts = np.asarray(prior_counts, dtype=np.float64)
    return Prototypes(lda.xbar_, projection, centroids, 1.0, np.log(counts / counts.sum()))


def calibrate_prototypes(
    prototypes: Prototypes, embeddings: np.ndarray, labels: np.ndarray
) -> Prototypes:
    """Fit the temperature that minimises negative log-likelihood on held-out data."""
    distances = prototypes.distances(embeddings)

    def nll(t: float) -> float:
        logp = log_softmax(-distances / t + prototypes.log_prior, axis=1)
        return float(-logp[np.arange(len(labels)), labels].mean())

    prototypes.temperature = float(minimize_scalar(nll, bounds=(0.01, 100.0), method="bounded").x)
    return prototypes
