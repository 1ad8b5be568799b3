"""Route 2: nearness to class centroids, the fallback that needs no trained head."""

from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis


class Prototypes:
    """One centroid per class in the embedding's discriminant (LDA) projection.

    Raw cosine to centroids confuses the classes that the embedding places close together
    (macro-F1 0.32 on dev); the projection spreads them apart first (0.45). A class's logit is minus
    the squared distance to its centroid over a temperature, plus the training log-prior, which puts
    it on the head's footing.
    """

    def __init__(
        self,
        mean: np.ndarray,
        projection: np.ndarray,
        centroids: np.ndarray,
        temperature: float,
        log_prior: np.ndarray,
    ) -> None:
        self.mean = mean
        self.projection = projection
        self.centroids = centroids
        self.temperature = temperature
        self.log_prior = log_prior

    @property
    def dimension(self) -> int:
        return int(self.projection.shape[0])

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: np.ndarray,
        n_classes: int,
        prior_counts: np.ndarray | None = None,
    ) -> "Prototypes":
        """``prior_counts`` (default: the labels' own) set the prior the logits carry."""
        lda = LinearDiscriminantAnalysis(solver="svd").fit(embeddings, labels)
        projection = lda.scalings_[:, : n_classes - 1]
        projected = (embeddings - lda.xbar_) @ projection
        centroids = np.stack([projected[labels == c].mean(axis=0) for c in range(n_classes)])
        if prior_counts is None:
            prior_counts = np.bincount(labels, minlength=n_classes)
        counts = np.asarray(prior_counts, dtype=np.float64)
        return cls(lda.xbar_, projection, centroids, 1.0, np.log(counts / counts.sum()))

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        if embeddings.shape[1] != self.dimension:
            raise ValueError(f"embedding dimension {embeddings.shape[1]} != {self.dimension}")
        projected = (embeddings - self.mean) @ self.projection
        return np.asarray(((projected[:, None, :] - self.centroids[None]) ** 2).sum(axis=-1))

    def calibrate(self, embeddings: np.ndarray, labels: np.ndarray) -> "Prototypes":
        """Fit the temperature that minimises negative log-likelihood on held-out data."""
        distances = self.distances(embeddings)

        def nll(t: float) -> float:
            logp = log_softmax(-distances / t + self.log_prior, axis=1)
            return float(-logp[np.arange(len(labels)), labels].mean())

        self.temperature = float(minimize_scalar(nll, bounds=(0.01, 100.0), method="bounded").x)
        return self

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(-self.distances(embeddings) / self.temperature + self.log_prior)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            mean=self.mean,
            projection=self.projection,
            centroids=self.centroids,
            temperature=np.float64(self.temperature),
            log_prior=self.log_prior,
        )

    @classmethod
    def load(cls, path: Path) -> "Prototypes":
        with np.load(path, allow_pickle=False) as npz:
            return cls(
                npz["mean"],
                npz["projection"],
                npz["centroids"],
                float(npz["temperature"]),
                npz["log_prior"],
            )
