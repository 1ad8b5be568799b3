"""Route 2: nearness to class centroids, the fallback that needs no trained head."""

from collections.abc import Mapping

import numpy as np


class Prototypes:
    """One centroid per class in the embedding's discriminant (LDA) projection.

    Raw cosine to centroids confuses the classes that the embedding places close together
    (macro-F1 0.32 on dev); the projection spreads them apart first (0.45). A class's logit is minus
    the squared distance to its centroid over a temperature, plus the training log-prior, which puts
    it on the head's footing. Fitting them is training's work (``_fit.py``).
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

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        if embeddings.shape[1] != self.dimension:
            raise ValueError(f"embedding dimension {embeddings.shape[1]} != {self.dimension}")
        projected = (embeddings - self.mean) @ self.projection
        return np.asarray(((projected[:, None, :] - self.centroids[None]) ** 2).sum(axis=-1))

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(-self.distances(embeddings) / self.temperature + self.log_prior)

    def arrays(self) -> dict[str, np.ndarray]:
        """What ``prototypes.npz`` holds."""
        return {
            "mean": self.mean,
            "projection": self.projection,
            "centroids": self.centroids,
            "temperature": np.asarray(self.temperature, dtype=np.float64),
            "log_prior": self.log_prior,
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> "Prototypes":
        return cls(
            arrays["mean"],
            arrays["projection"],
            arrays["centroids"],
            float(arrays["temperature"]),
            arrays["log_prior"],
        )
