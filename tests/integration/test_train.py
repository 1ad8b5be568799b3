"""Training on a slice of GoEmotions: reproducible, guarded, and readable by the classifier."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jeffrey_affect import EMOTIONS, AffectClassifier, AffectConfig
from jeffrey_affect._artifacts import (
    ADAPTER_DIR,
    HEAD_ARRAYS_FILE,
    HEAD_SPEC_FILE,
    HEAD_TOKENIZER_FILE,
    MANIFEST_FILE,
    PROTOTYPES_FILE,
    Manifest,
)
from jeffrey_affect._config import DEFAULT_ENCODER
from jeffrey_affect._data import CHAT_TRAIN, HARD_TRAIN, data_hashes, load_split
from jeffrey_affect._encoders.base import adapter_digest
from jeffrey_affect._train import HYPERPARAMETERS, train
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


@pytest.fixture(scope="module")
def small_xed(xed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every 40th line of each XED file."""
    out = tmp_path_factory.mktemp("xed-slice")
    for name in ("en-annotated.tsv", "neu_en.txt"):
        lines = (xed / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (out / name).write_text("".join(lines[::40]), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def small_chat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every 8th chat training turn: still some of each label in both parts."""
    path = tmp_path_factory.mktemp("chat-slice") / "chat_train.tsv"
    lines = CHAT_TRAIN.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[::8]), encoding="utf-8")
    return path


TINY = HYPERPARAMETERS | {
    "encoder_adapter": HYPERPARAMETERS["encoder_adapter"]
    | {
        "examples": {"goemotions": 48, "xed": 16, "chat_train": 32},
        "batch_size": 16,
    }
}
"""Six adapter steps: enough to prove the fine-tuning path reproducible, in seconds."""


@pytest.fixture
def train_small(small_data: Path, small_xed: Path, small_chat: Path) -> Callable[..., Manifest]:
    def run(
        out: Path,
        cache: Path | None = None,
        hyperparameters: dict[str, Any] = TINY,
        adapter: Path | None = None,
    ) -> Manifest:
        return train(
            small_data,
            out,
            xed=small_xed,
            chat=small_chat,
            cache_dir=cache or out / "cache",
            hyperparameters=hyperparameters,
            adapter=adapter,
        )

    return run


def test_training_twice_gives_the_same_hash_and_predictions(
    small_data: Path,
    small_xed: Path,
    small_chat: Path,
    train_small: Callable[..., Manifest],
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    first = train_small(tmp_path / "a", cache)
    second = train_small(tmp_path / "b", cache)
    assert first.config_hash == second.config_hash == first.compute_hash()
    files = (HEAD_ARRAYS_FILE, HEAD_SPEC_FILE, HEAD_TOKENIZER_FILE, PROTOTYPES_FILE)
    assert sorted(first.file_sha256) == sorted(files)
    assert first.file_sha256 == second.file_sha256
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert first.data_sha256 == data_hashes(small_data, small_xed, small_chat, HARD_TRAIN)
    assert (first.encoder.name, first.encoder.dimension) == (DEFAULT_ENCODER, 384)
    weights = TINY["source_weight"]
    assert set(first.source_counts) == {name for name, w in weights.items() if w > 0}
    assert first.mapping["neutral"] == ["neutral", "curiosity"]

    assert first.encoder.adapter_sha256 is not None
    assert first.encoder.adapter_sha256 == adapter_digest(tmp_path / "a" / ADAPTER_DIR)
    # nothing machine- or process-specific in what the hash covers: a clean clone trains the same
    config = json.loads((tmp_path / "a" / ADAPTER_DIR / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == DEFAULT_ENCODER
    assert config["target_modules"] == sorted(config["target_modules"])
    assert sorted(p.name for p in (tmp_path / "a" / ADAPTER_DIR).iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
    ]

    test = load_split(small_data, "test")
    predictions = []
    for directory in ("a", "b"):
        clf = AffectClassifier(
            AffectConfig(
                artifacts_dir=tmp_path / directory,
                log_enabled=False,
                class_prior="train",
                encoder_backend="torch",
            )
        )
        assert clf.encoder.adapter_sha256 == first.encoder.adapter_sha256  # type: ignore[attr-defined]
        results = clf.classify_batch(test.texts)
        assert {r.route for r in results} <= {"linear_head", "regex"}  # regex: empty texts only
        predictions.append([r.scores for r in results])
    assert predictions[0] == predictions[1]


def test_a_given_adapter_is_reused_and_gives_the_same_artifacts(
    train_small: Callable[..., Manifest], tmp_path: Path
) -> None:
    """``train --adapter`` skips the fine-tuning; with the adapter that training made, the rest
    comes out byte for byte as that training's."""
    cache = tmp_path / "cache"
    first = train_small(tmp_path / "a", cache)
    reused = train_small(tmp_path / "b", cache, adapter=tmp_path / "a" / ADAPTER_DIR)
    assert reused.encoder.adapter_sha256 == first.encoder.adapter_sha256
    assert reused.config_hash == first.config_hash
    assert reused.file_sha256 == first.file_sha256


def test_an_altered_adapter_is_not_applied_and_the_model_routes_stand_down(
    train_small: Callable[..., Manifest], tmp_path: Path
) -> None:
    train_small(tmp_path)
    weights = tmp_path / ADAPTER_DIR / "adapter_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-4] ^= 0xFF  # one weight's byte, as a torn copy or a planted file would differ
    weights.write_bytes(bytes(data))
    clf = AffectClassifier(
        AffectConfig(artifacts_dir=tmp_path, log_enabled=False, encoder_backend="torch")
    )
    assert clf.encoder.adapter_sha256 is None  # type: ignore[attr-defined]
    result = clf.classify("the parcel never came and nobody answers")
    assert result.route == "regex"
    assert result.fallback_reason is not None and "adapter" in result.fallback_reason


def test_frozen_encoder_training_records_no_adapter(
    train_small: Callable[..., Manifest], tmp_path: Path
) -> None:
    manifest = train_small(tmp_path, hyperparameters=TINY | {"encoder_adapter": None})
    assert manifest.encoder.adapter_sha256 is None
    assert not (tmp_path / ADAPTER_DIR).exists()
    clf = AffectClassifier(
        AffectConfig(artifacts_dir=tmp_path, log_enabled=False, encoder_backend="torch")
    )
    assert clf.classify("we're getting married!!").route == "linear_head"


def test_manifest_hash_covers_every_field(
    train_small: Callable[..., Manifest], tmp_path: Path
) -> None:
    train_small(tmp_path)
    manifest = Manifest.model_validate_json((tmp_path / MANIFEST_FILE).read_text())
    changed = manifest.model_copy(update={"train_class_counts": [1] * 8})
    assert changed.compute_hash() != manifest.compute_hash()
    data = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert set(data) >= {
        "encoder",
        "labels",
        "mapping",
        "xed_mapping",
        "source_counts",
        "hyperparameters",
        "data_sha256",
        "versions",
    }
    assert data["versions"]["torch"] == "2.13.0+cpu" or data["versions"]["torch"].startswith(
        "2.13.0"
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
