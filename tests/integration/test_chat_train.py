"""The chat training sets: format, size, balance, and proof that they copy no evaluation line.

Every file in ``models/data`` was written for the project by authors who never saw the chat
evaluation sets in ``tests/data`` (and its folders), nor those authors the training files. These
tests hold them to that: no training line is a near-copy of an evaluation line, by spelling or by
meaning, and none comes from GoEmotions.
"""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

from jeffrey_affect import EMOTIONS, SentenceTransformerEncoder
from jeffrey_affect._data import CHAT_TRAIN, load_chat_train
from tests.helpers import DATA

TRAINING_SETS = sorted(CHAT_TRAIN.parent.glob("*.tsv"))
EVALUATION_SETS = sorted(DATA.rglob("*.tsv"))
COLUMNS = {
    "hard_train.tsv": 3,
    "hard_turns.tsv": 3,
    "hard_train_multilingual.tsv": 4,
    "unsupported.tsv": 2,
}
"""Each file's columns, the text last: ``label<TAB>text`` where a file is not named here; the
hard-turn files add a kind, and the multilingual one a language code after it;
``unsupported.tsv`` is a language code and the text, no label."""
MAX_EDIT_SIMILARITY = 0.75
"""1 - Levenshtein distance / length of the longer text, case-folded: above this, a near-copy."""
MAX_COSINE = 0.92
"""Cosine of the base MiniLM's embeddings (not the adapted encoder's: its adapter is trained to pull
turns of one emotion together): above this two turns say the same thing in other words. Only turns
with a letter or digit are compared: MiniLM reads every emoji as the same unknown token, so any two
emoji-only turns embed alike; the spelling check covers them."""


def _texts(path: Path) -> list[str]:
    return [line.split("\t")[-1] for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def chat_train() -> list[str]:
    """Every training file's turns."""
    assert len(TRAINING_SETS) >= 9, "expected chat_train, six languages' and two hard-turn files"
    return [t for path in TRAINING_SETS for t in _texts(path)]


@pytest.fixture(scope="module")
def evaluation_texts() -> list[str]:
    assert len(EVALUATION_SETS) >= 11, "expected the English, language and meaning sets"
    return [t for path in EVALUATION_SETS for t in _texts(path)]


def _has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


@pytest.mark.parametrize("path", TRAINING_SETS + EVALUATION_SETS, ids=lambda p: p.name)
def test_every_line_is_its_columns_and_a_trimmed_text(path: Path) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        *columns, text = line.split("\t")
        where = f"{path.name}:{number}: {line!r}"
        assert len(columns) + 1 == COLUMNS.get(path.name, 2), where
        assert path.name == "unsupported.tsv" or columns[0] in EMOTIONS, where
        assert text and text == text.strip(), where


def test_size_balance_and_a_seeded_dev_part() -> None:
    train, dev = load_chat_train()
    assert len(train.texts) + len(dev.texts) >= 2400
    assert 0.13 <= len(dev.texts) / (len(train.texts) + len(dev.texts)) <= 0.17
    counts = Counter(EMOTIONS[i] for i in train.labels)
    assert min(counts[e] for e in EMOTIONS) >= 300, counts
    again_train, again_dev = load_chat_train()
    assert again_dev.texts == dev.texts and again_train.texts == train.texts
    assert not set(train.texts) & set(dev.texts)


@pytest.mark.parametrize("path", TRAINING_SETS, ids=lambda p: p.name)
def test_no_duplicates_within_a_set(path: Path) -> None:
    counts = Counter(t.casefold() for t in _texts(path))
    assert [t for t, n in counts.items() if n > 1] == []


def test_no_line_spells_an_evaluation_line(
    chat_train: list[str], evaluation_texts: list[str]
) -> None:
    similarity = cdist(
        chat_train,
        evaluation_texts,
        scorer=Levenshtein.normalized_similarity,
        processor=str.casefold,
        workers=-1,
    )
    i, j = np.unravel_index(similarity.argmax(), similarity.shape)
    assert similarity[i, j] <= MAX_EDIT_SIMILARITY, (chat_train[i], evaluation_texts[j])


def test_no_line_says_what_an_evaluation_line_says(
    chat_train: list[str], evaluation_texts: list[str]
) -> None:
    encoder = SentenceTransformerEncoder()
    worded_train, worded_evaluation = (
        [t for t in ts if _has_words(t)] for ts in (chat_train, evaluation_texts)
    )
    cosine = encoder.encode(worded_train) @ encoder.encode(worded_evaluation).T
    i, j = np.unravel_index(cosine.argmax(), cosine.shape)
    assert cosine[i, j] <= MAX_COSINE, (worded_train[i], worded_evaluation[j], float(cosine[i, j]))


def test_the_checks_catch_a_near_copy(evaluation_texts: list[str]) -> None:
    """The thresholds are not so loose that an evaluation line with a typo slips through."""
    line = max(evaluation_texts, key=len)
    typo = line[:-2] + line[-1]
    similarity = Levenshtein.normalized_similarity(typo.casefold(), line.casefold())
    assert similarity > MAX_EDIT_SIMILARITY


def test_no_line_comes_from_goemotions(chat_train: list[str], goemotions: Path) -> None:
    corpus = {
        line.split("\t", 1)[0].strip().casefold()
        for name in ("train.tsv", "dev.tsv", "test.tsv")
        for line in (goemotions / name).read_text(encoding="utf-8").splitlines()
    }
    assert len(corpus) > 50_000
    assert [t for t in chat_train if t.casefold() in corpus] == []
