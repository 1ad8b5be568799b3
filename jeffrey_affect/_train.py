"""Fit the head and prototypes on GoEmotions train, calibrate on dev, write the artifacts."""

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import joblib

from jeffrey_affect._artifacts import (
    HEAD_FILE,
    MANIFEST_FILE,
    PROTOTYPES_FILE,
    EncoderInfo,
    Manifest,
)
from jeffrey_affect._data import data_hashes, load_split
from jeffrey_affect._embedding_cache import cached_embeddings
from jeffrey_affect._encoder import Encoder
from jeffrey_affect._head import LinearHead
from jeffrey_affect._labels import EMOTIONS, GOEMOTIONS_MAPPING
from jeffrey_affect._prototypes import Prototypes

HYPERPARAMETERS: dict[str, Any] = {
    "head": {
        "C": 2.0,
        "embedding_weight": 2.0,
        "word_features": 20000,
        "char_features": 50000,
        "lexicon_weight": 3.0,
        "random_state": 42,
    },
}
"""Chosen on GoEmotions dev (half for calibration, half for scoring); test was not consulted."""

_VERSIONED = (
    "jeffrey-affect",
    "numpy",
    "scipy",
    "scikit-learn",
    "joblib",
    "sentence-transformers",
    "transformers",
    "torch",
)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist in _VERSIONED:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = "absent"
    return found


def train(
    data_dir: Path,
    out_dir: Path,
    encoder: Encoder,
    *,
    cache_dir: Path = Path(".cache/embeddings"),
    hyperparameters: dict[str, Any] = HYPERPARAMETERS,
) -> Manifest:
    """Train and write ``linear_head.joblib``, ``prototypes.npz`` and ``manifest.json``."""
    train_split, dev_split = load_split(data_dir, "train"), load_split(data_dir, "dev")
    train_x = cached_embeddings(encoder, train_split.texts, cache_dir)
    dev_x = cached_embeddings(encoder, dev_split.texts, cache_dir)

    head = LinearHead(**hyperparameters["head"]).fit(train_split.texts, train_x, train_split.labels)
    head.calibrate(dev_split.texts, dev_x, dev_split.labels)
    prototypes = Prototypes.fit(train_x, train_split.labels, len(EMOTIONS))
    prototypes.calibrate(dev_x, dev_split.labels)

    manifest = Manifest(
        encoder=EncoderInfo(
            name=getattr(encoder, "name", type(encoder).__name__),
            dimension=encoder.dimension,
            prefix=getattr(encoder, "prefix", ""),
            backend=getattr(encoder, "backend", "torch"),
        ),
        labels=list(EMOTIONS),
        mapping={k: list(v) for k, v in GOEMOTIONS_MAPPING.items()},
        train_class_counts=[int((train_split.labels == i).sum()) for i in range(len(EMOTIONS))],
        hyperparameters=hyperparameters
        | {
            "head_temperature": head.temperature_,
            "head_bias": head.bias_.tolist(),
            "prototypes_temperature": prototypes.temperature,
        },
        data_sha256=data_hashes(data_dir),
        versions=_versions(),
    )
    manifest.config_hash = manifest.compute_hash()

    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(head, out_dir / HEAD_FILE, compress=3)
    prototypes.save(out_dir / PROTOTYPES_FILE)
    (out_dir / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n")
    return manifest
