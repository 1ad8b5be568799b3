"""GoEmotions, read from the user's copy of the official release and mapped to our eight labels."""

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jeffrey_affect._labels import EMOTIONS, GOEMOTIONS_MAPPING
from jeffrey_affect._text import preprocess_light

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Split:
    """Single-label items of one split: texts preprocessed, labels as indices of EMOTIONS."""

    texts: list[str]
    labels: np.ndarray


def _label_names(data_dir: Path) -> list[str]:
    return (data_dir / "labels.txt").read_text(encoding="utf-8").split()


def load_split(data_dir: Path, split: str) -> Split:
    """Keep only items whose GoEmotions labels all map to one of our classes."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = data_dir / f"{split}.tsv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: point --data at a copy of the GoEmotions release "
            "(train.tsv, dev.tsv, test.tsv, labels.txt)"
        )
    ours = {name: EMOTIONS.index(e) for e, names in GOEMOTIONS_MAPPING.items() for name in names}
    names = _label_names(data_dir)
    texts: list[str] = []
    labels: list[int] = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            mapped = {ours[names[int(i)]] for i in row[1].split(",")}
            if len(mapped) == 1:
                texts.append(preprocess_light(row[0]))
                labels.append(mapped.pop())
    return Split(texts, np.asarray(labels, dtype=np.int64))


def data_hashes(data_dir: Path) -> dict[str, str]:
    """sha256 of every file training reads, so a manifest proves which data made it."""
    files = [f"{s}.tsv" for s in SPLITS[:2]] + ["labels.txt"]
    return {f: hashlib.sha256((data_dir / f).read_bytes()).hexdigest() for f in files}
