"""Figures for each route alone and for the router, on one labelled set."""

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from jeffrey_affect._classifier import AffectClassifier, model_route_probabilities
from jeffrey_affect._embedding_cache import cached_embeddings
from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._lexicon import lexicon_features


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 15
) -> float:
    """Gap between confidence and accuracy, weighted over equal-width confidence bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            gap += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(gap)


def figures(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    predicted = probabilities.argmax(axis=1)
    classes = list(range(len(EMOTIONS)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=classes, zero_division=0
    )
    return {
        "n": len(labels),
        "macro_f1": float(
            f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)
        ),
        "accuracy": float(accuracy_score(labels, predicted)),
        "ece": expected_calibration_error(probabilities, labels),
        "per_class": {
            e: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, e in enumerate(EMOTIONS)
        },
        "predicted": predicted.tolist(),
    }


def route_probabilities(
    clf: AffectClassifier, texts: list[str], cache_dir: Path
) -> dict[str, np.ndarray]:
    """Each route alone, under the classifier's class prior, plus the router via classify_batch."""
    embeddings = cached_embeddings(clf.encoder, texts, cache_dir)
    out = model_route_probabilities(clf, texts, embeddings)
    out["regex"] = lexicon_features(texts)
    out["router"] = router_probabilities(clf, texts)
    return out


def router_probabilities(clf: AffectClassifier, texts: list[str]) -> np.ndarray:
    """Scores as users get them: through the public classify_batch."""
    return np.asarray([[r.scores[e] for e in EMOTIONS] for r in clf.classify_batch(texts)])


def evaluate(
    clf: AffectClassifier, texts: list[str], labels: np.ndarray, cache_dir: Path
) -> dict[str, dict[str, Any]]:
    probabilities = route_probabilities(clf, texts, cache_dir)
    return {route: figures(p, labels) for route, p in probabilities.items()}
