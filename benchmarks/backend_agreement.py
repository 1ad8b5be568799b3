"""How closely each ONNX backend's scores follow the torch encoder's, turn by turn.

    python benchmarks/backend_agreement.py [--data ../shared/goemotions]

Scores every turn of GoEmotions test and of the chat sets in tests/data with the bundled artifacts
at the default prior, on torch and on each ONNX backend, and prints the largest absolute
difference of a score, its 99th percentile over turns, and the share of labels that agree.
"""

import argparse
from pathlib import Path

import numpy as np

from jeffrey_affect import EMOTIONS, AffectClassifier, AffectConfig
from jeffrey_affect._config import OnnxBackend
from jeffrey_affect._data import load_chat_set, load_split
from jeffrey_affect._validate import default_chat_sets
from tests.helpers import GOEMOTIONS, bundled_encoder


def scores(clf: AffectClassifier, texts: list[str]) -> tuple[np.ndarray, list[str]]:
    results = [r for i in range(0, len(texts), 256) for r in clf.classify_batch(texts[i : i + 256])]
    labels = [r.emotion for r in results]
    return np.array([[r.scores[e] for e in EMOTIONS] for r in results]), labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=GOEMOTIONS)
    args = parser.parse_args()
    texts = load_split(args.data, "test").texts
    texts += [t for path in default_chat_sets() for t in load_chat_set(path).texts]
    settings = {"log_enabled": False, "cache_size": 0}
    torch = AffectClassifier(AffectConfig(**settings), encoder=bundled_encoder())
    reference, reference_labels = scores(torch, texts)
    print(f"{len(texts)} turns; each ONNX backend against torch:")
    backends: tuple[OnnxBackend, ...] = ("onnx", "onnx-int8")
    for backend in backends:
        clf = AffectClassifier(AffectConfig(encoder_backend=backend, **settings))
        got, labels = scores(clf, texts)
        largest = np.abs(got - reference).max(axis=1)
        agree = np.mean([a == b for a, b in zip(labels, reference_labels, strict=True)])
        print(
            f"  {backend}: largest score difference {largest.max():.2g}"
            f" (p99 {np.quantile(largest, 0.99):.2g}), labels agree {agree:.2%}"
        )


if __name__ == "__main__":
    main()
