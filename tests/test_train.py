"""Training on a slice of GoEmotions: reproducible, guarded, and readable by the classifier."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from jeffrey_affect import EMOTIONS, AffectClassifier, AffectConfig, SentenceTransformerEncoder
from jeffrey_affect._artifacts import MANIFEST_FILE, Manifest
from jeffrey_affect._data import data_hashes, load_split
from jeffrey_affect._prototypes import Prototypes
from jeffrey_affect._train import train
from jeffrey_affect.cli import main


@pytest.fixture(scope="module")
def small_data(goemotions: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first lines of each split, so training takes seconds (a temp dir, never the repo)."""
    out = tmp_path_factory.mktemp("goemotions-slice")
    shutil.copy(goemotions / "labels.txt", out)
    for split, n in (("train", 1500), ("dev", 400), ("test", 300)):
        lines = (goemotions / f"{split}.tsv").read_text(encoding="utf-8").splitlines(keepends=True)
        (out / f"{split}.tsv").write_text("".join(lines[:n]), encoding="utf-8")
    return out


def test_training_twice_gives_the_same_hash_and_predictions(
    small_data: Path, tmp_path: Path, encoder: SentenceTransformerEncoder
) -> None:
    cache = tmp_path / "cache"
    first = train(small_data, tmp_path / "a", encoder, cache_dir=cache)
    second = train(small_data, tmp_path / "b", encoder, cache_dir=cache)
    assert first.config_hash == second.config_hash == first.compute_hash()
    assert first.data_sha256 == data_hashes(small_data)
    assert first.encoder.name == encoder.name and first.encoder.dimension == encoder.dimension

    test = load_split(small_data, "test")
    predictions = []
    for directory in ("a", "b"):
        clf = AffectClassifier(
            AffectConfig(
                artifacts_dir=tmp_path / directory, log_enabled=False, class_prior="train"
            ),
            encoder=encoder,
        )
        results = clf.classify_batch(test.texts)
        assert {r.route for r in results} <= {"linear_head", "regex"}  # regex: empty texts only
        predictions.append([r.scores for r in results])
    assert predictions[0] == predictions[1]


def test_manifest_hash_covers_every_field(small_data: Path, tmp_path: Path, encoder) -> None:
    train(small_data, tmp_path, encoder, cache_dir=tmp_path / "cache")
    manifest = Manifest.model_validate_json((tmp_path / MANIFEST_FILE).read_text())
    changed = manifest.model_copy(update={"train_class_counts": [1] * 8})
    assert changed.compute_hash() != manifest.compute_hash()
    data = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert set(data) >= {
        "encoder",
        "labels",
        "mapping",
        "hyperparameters",
        "data_sha256",
        "versions",
    }
    assert data["versions"]["torch"] == "2.13.0+cpu" or data["versions"]["torch"].startswith(
        "2.13.0"
    )


def test_prototypes_round_trip_through_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(8), 30)
    embeddings = rng.normal(size=(240, 16)) + np.eye(8, 16)[labels] * 4
    protos = Prototypes.fit(embeddings, labels, 8).calibrate(embeddings, labels)
    assert (protos.logits(embeddings).argmax(axis=1) == labels).mean() > 0.9
    protos.save(tmp_path / "p.npz")
    np.testing.assert_allclose(
        Prototypes.load(tmp_path / "p.npz").logits(embeddings), protos.logits(embeddings)
    )


def test_cli_eval_prints_every_route(small_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "eval",
                "--data",
                str(small_data),
                "--split",
                "test",
                "--json",
                "--cache-dir",
                str(small_data / "cache"),
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"linear_head", "prototypes", "regex", "router"}
    n = len(load_split(small_data, "test").texts)
    for figures in report.values():
        assert figures["n"] == n
        assert 0.0 < figures["macro_f1"] < 1.0 and 0.0 < figures["accuracy"] < 1.0
        assert set(figures["per_class"]) == set(EMOTIONS)
        assert sum(c["support"] for c in figures["per_class"].values()) == n


def test_load_split_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="GoEmotions"):
        load_split(tmp_path, "train")
