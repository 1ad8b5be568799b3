"""Route 2: cosine similarity to class centroids, the fallback that needs no trained head."""

from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.cluster import KMeans


class Prototypes:
    """k centroids per class; a class's logit is its best cosine similarity over a temperature.

    Several centroids follow a class with several faces (joy as thanks, as love, as excitement)
    better than one. Adding the training log-prior puts the logits on the head's footing.
    """

    def __init__(
        self, centroids: np.ndarray, labels: np.ndarray, temperature: float, log_prior: np.ndarray
    ) -> None:
        self.centroids = centroids
        self.labels = labels
        self.temperature = temperature
        self.log_prior = log_prior

    @property
    def dimension(self) -> int:
        return int(self.centroids.shape[1])

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: np.ndarray,
        n_classes: int,
        *,
        per_class: int = 1,
        random_state: int = 42,
    ) -> "Prototypes":
        centroids, owners = [], []
        for c in range(n_classes):
            members = embeddings[labels == c]
            k = min(per_class, len(members))
            km = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit(members)
            centroids.append(km.cluster_centers_)
            owners += [c] * k
        stacked = np.concatenate(centroids).astype(np.float32)
        stacked /= np.linalg.norm(stacked, axis=1, keepdims=True)
        counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
        return cls(stacked, np.asarray(owners), 1.0, np.log(counts / counts.sum()))

    def similarities(self, embeddings: np.ndarray) -> np.ndarray:
        """Best cosine similarity per class (embeddings are already L2-normalised)."""
        if embeddings.shape[1] != self.dimension:
            raise ValueError(f"embedding dimension {embeddings.shape[1]} != {self.dimension}")
        sims = embeddings @ self.centroids.T
        n_classes = len(self.log_prior)
        return np.stack([sims[:, self.labels == c].max(axis=1) for c in range(n_classes)], axis=1)

    def calibrate(self, embeddings: np.ndarray, labels: np.ndarray) -> "Prototypes":
        sims = self.similarities(embeddings)

        def nll(t: float) -> float:
            logp = log_softmax(sims / t + self.log_prior, axis=1)
            return float(-logp[np.arange(len(labels)), labels].mean())

        self.temperature = float(minimize_scalar(nll, bounds=(0.001, 2.0), method="bounded").x)
        return self

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(self.similarities(embeddings) / self.temperature + self.log_prior)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            centroids=self.centroids,
            labels=self.labels,
            temperature=np.float64(self.temperature),
            log_prior=self.log_prior,
        )

    @classmethod
    def load(cls, path: Path) -> "Prototypes":
        with np.load(path, allow_pickle=False) as npz:
            return cls(npz["centroids"], npz["labels"], float(npz["temperature"]), npz["log_prior"])
