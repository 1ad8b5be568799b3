"""Format checks for the hand-written chat smoke set, so a bad edit fails fast and loudly."""

from collections import Counter
from pathlib import Path

import pytest

from jeffrey_affect._labels import EMOTIONS

SMOKE_PATH = Path(__file__).parent / "data" / "smoke_chat.tsv"
GOEMOTIONS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "goemotions"


def _rows() -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(SMOKE_PATH.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        assert len(parts) == 2, f"line {number}: expected label<TAB>text, got {line!r}"
        rows.append((parts[0], parts[1]))
    return rows


ROWS = _rows()


def test_every_line_has_valid_label_and_text() -> None:
    for label, text in ROWS:
        assert label in EMOTIONS, f"unknown label {label!r}"
        assert text.strip(), f"empty text for label {label!r}"
        assert text == text.strip(), f"stray whitespace around {text!r}"


def test_size_and_label_balance() -> None:
    assert len(ROWS) >= 200
    counts = Counter(label for label, _ in ROWS)
    for emotion in EMOTIONS:
        assert counts[emotion] >= 25, f"{emotion}: only {counts[emotion]} lines"


def test_no_duplicate_texts() -> None:
    counts = Counter(text for _, text in ROWS)
    assert [text for text, n in counts.items() if n > 1] == []


def test_no_text_copied_from_goemotions() -> None:
    if not GOEMOTIONS_DIR.is_dir():
        pytest.skip(f"GoEmotions not available at {GOEMOTIONS_DIR}; cannot check for copied texts")
    goemotions = {
        line.split("\t", 1)[0].strip()
        for tsv in GOEMOTIONS_DIR.glob("*.tsv")
        for line in tsv.read_text(encoding="utf-8").splitlines()
    }
    assert goemotions, f"no GoEmotions texts read from {GOEMOTIONS_DIR}"
    assert [text for _, text in ROWS if text in goemotions] == []
