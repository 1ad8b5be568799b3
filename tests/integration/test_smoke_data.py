"""Format checks for the hand-written chat sets, so a bad edit fails fast and loudly.

``smoke_chat.tsv`` is the issue's smoke set; ``chat_holdout.tsv`` was written separately and blind
(its author saw neither the smoke set nor the lexicon), to re-measure chat accuracy independently.
"""

from collections import Counter
from pathlib import Path

import pytest

from jeffrey_affect._labels import EMOTIONS
from tests.helpers import DATA, GOEMOTIONS

CHAT_SETS = [DATA / "smoke_chat.tsv", DATA / "chat_holdout.tsv"]


def _rows(path: Path) -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split("\t")
        assert len(parts) == 2, f"{path.name}:{number}: expected label<TAB>text, got {line!r}"
        rows.append((parts[0], parts[1]))
    return rows


@pytest.fixture(params=CHAT_SETS, ids=lambda p: p.name)
def rows(request: pytest.FixtureRequest) -> list[tuple[str, str]]:
    return _rows(request.param)


def test_every_line_has_valid_label_and_text(rows: list[tuple[str, str]]) -> None:
    for label, text in rows:
        assert label in EMOTIONS, f"unknown label {label!r}"
        assert text.strip(), f"empty text for label {label!r}"
        assert text == text.strip(), f"stray whitespace around {text!r}"


def test_size_and_label_balance(rows: list[tuple[str, str]]) -> None:
    assert len(rows) >= 200
    counts = Counter(label for label, _ in rows)
    for emotion in EMOTIONS:
        assert counts[emotion] >= 25, f"{emotion}: only {counts[emotion]} lines"


def test_no_duplicate_texts(rows: list[tuple[str, str]]) -> None:
    counts = Counter(text for _, text in rows)
    assert [text for text, n in counts.items() if n > 1] == []


def test_the_two_chat_sets_share_no_text() -> None:
    smoke, holdout = ({t.casefold() for _, t in _rows(p)} for p in CHAT_SETS)
    assert smoke & holdout == set()


def test_no_text_copied_from_goemotions(rows: list[tuple[str, str]]) -> None:
    if not GOEMOTIONS.is_dir():
        pytest.skip(f"GoEmotions not available at {GOEMOTIONS}; cannot check for copied texts")
    goemotions = {
        line.split("\t", 1)[0].strip()
        for tsv in GOEMOTIONS.glob("*.tsv")
        for line in tsv.read_text(encoding="utf-8").splitlines()
    }
    assert goemotions, f"no GoEmotions texts read from {GOEMOTIONS}"
    assert [text for _, text in rows if text in goemotions] == []
