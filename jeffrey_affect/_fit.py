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
from tokenizers import Tokenizer

from jeffrey_affect._head import HEAD_FORMAT, NGRAMS, HeadSpec, LinearHead, token_ngrams, tokenize
from jeffrey_affect._lexicon import lexicon_features
from jeffrey_affect._prototypes import Prototypes


def ngram_vectorizer(**limits: Any) -> TfidfVectorizer:
    """``NGRAMS`` as scikit-learn's TF-IDF over token lists: ``token_ngrams`` makes the n-grams."""
    settings = {k: v for k, v in NGRAMS.items() if k not in ("units", "ngram_range")}
    return TfidfVectorizer(analyzer=token_ngrams, **settings, **limits)


class HeadFit:
    """Fits ``LinearHead``: logistic regression on [embedding | TF-IDF subword n-grams | lexicon
    scores], each block scaled by its weight; the n-grams are ``tokenizer``'s tokens and pairs.

    Classes are weighted to balance, so the rare ones (fear, disgust) shape the boundaries; a
    temperature and per-class biases fitted on dev then make softmax(logits) a calibrated
    probability under the training prior again.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        *,
        C: float = 1.0,
        embedding_weight: float = 0.5,
        ngram_features: int = 70000,
        lexicon_weight: float = 3.0,
        random_state: int = 42,
    ) -> None:
        self.tokenizer = tokenizer
        self.C = C
        self.embedding_weight = embedding_weight
        self.ngram_features = ngram_features
        self.lexicon_weight = lexicon_weight
        self.random_state = random_state

    def features(self, texts: Sequence[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        return sparse.hstack(
            [
                sparse.csr_matrix(embeddings * self.embedding_weight),
                self.ngrams_.transform(tokenize(self.tokenizer, texts)),
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
        self.ngrams_ = ngram_vectorizer(min_df=2, max_features=self.ngram_features).fit(
            tokenize(self.tokenizer, texts)
        )
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
        ngrams_end = dimension + len(self.ngrams_.vocabulary_)
        spec = HeadSpec(
            format=HEAD_FORMAT,
            dimension=dimension,
            temperature=self.temperature_,
            ngrams=NGRAMS,
            vocabulary=_terms(self.ngrams_),
        )
        arrays = {
            "embedding_weights": coef[:dimension] * self.embedding_weight,
            "ngram_weights": coef[dimension:ngrams_end],
            "ngram_idf": self.ngrams_.idf_,
            "lexicon_weights": coef[ngrams_end:] * self.lexicon_weight,
            "intercept": self.model_.intercept_,
            "bias": self.bias_,
        }
        return LinearHead(
            {k: np.ascontiguousarray(v) for k, v in arrays.items()}, spec, self.tokenizer
        )


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
