"""The training corpora, read from the user's copies and mapped to our eight labels.

GoEmotions (Reddit comments) and XED (film subtitles) are read where they lie, never copied; the
chat training set ships in the repository, under ``models/data``. Every text goes through
``preprocess_light``, as every route's input does.
"""

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jeffrey_affect._artifacts import bundled_artifacts_dir
from jeffrey_affect._labels import EMOTIONS, GOEMOTIONS_MAPPING, XED_MAPPING
from jeffrey_affect._text import preprocess_light

SPLITS = ("train", "dev", "test")
DEV_FRACTION = 0.15
"""XED has no official split and chat_train is ours: this part of each is held out for tuning."""
SPLIT_SEED = 42

CHAT_TRAIN = bundled_artifacts_dir() / "data" / "chat_train.tsv"
HARD_TRAIN = bundled_artifacts_dir() / "data" / "hard_train.tsv"
"""Turns whose feeling is not named: sarcasm, negation, mixed, terse, outcomes, unfair treatment,
waiting, plain questions on loaded topics; ``label<TAB>kind<TAB>text``."""
CHAT_LANGUAGES = ("fr", "de", "es", "it", "pt", "nl")
"""The languages beside English with chat training turns of their own: ``chat_train_<code>.tsv``,
written for the project in each language's own phrasing."""
HARD_TRAIN_MULTILINGUAL = bundled_artifacts_dir() / "data" / "hard_train_multilingual.tsv"
"""hard_train's kinds in those languages: ``label<TAB>kind<TAB>lang<TAB>text``."""
BRIGHTER_LANGUAGES = {"deu": "de", "esp": "es", "ptbr": "pt", "rus": "ru"}
"""The BRIGHTER files training reads and validate reports, with each one's ISO 639-1 code."""


def chat_train_path(language: str) -> Path:
    return bundled_artifacts_dir() / "data" / f"chat_train_{language}.tsv"


def checkout_root() -> Path | None:
    """The source checkout this package runs from, if it does: the command line's development
    defaults (the corpora in ``../shared``, the chat sets in ``tests/data``) point into it, and an
    installed package has neither."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() else None


@dataclass(frozen=True)
class Split:
    """Single-label items: texts preprocessed, labels as indices of EMOTIONS."""

    texts: list[str]
    labels: np.ndarray


def _label_names(data_dir: Path) -> list[str]:
    return (data_dir / "labels.txt").read_text(encoding="utf-8").split()


def _require(path: Path, what: str, option: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: point {option} at {what}")


def load_split(data_dir: Path, split: str) -> Split:
    """GoEmotions items whose labels all map to one of our classes."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = data_dir / f"{split}.tsv"
    _require(
        path,
        "a copy of the GoEmotions release (train.tsv, dev.tsv, test.tsv, labels.txt)",
        "--data",
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


_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([.,!?;:%)]|n't\b|'(?:s|re|ve|ll|d|m)\b)")
_SPACE_AFTER_OPENING = re.compile(r"([(]) +")


def _detokenize(text: str) -> str:
    """XED is tokenised ("I don't know ."); chat is not, and the n-gram features notice."""
    text = _SPACE_AFTER_OPENING.sub(r"\1", _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text))
    return text.replace("[PERSON]", "[NAME]")  # GoEmotions' mask for the same thing


def load_xed(data_dir: Path) -> tuple[Split, Split]:
    """XED's single-label lines for our labels and its neutral lines, as (train, dev)."""
    annotated, neutral = data_dir / "en-annotated.tsv", data_dir / "neu_en.txt"
    for path in (annotated, neutral):
        _require(path, "the XED English release (en-annotated.tsv, neu_en.txt)", "--xed")
    ours = {xed_id: EMOTIONS.index(e) for e, xed_id in XED_MAPPING.items()}
    rows = [line.split("\t")[:2] for line in annotated.read_text(encoding="utf-8").splitlines()]
    rows += [line.split("\t")[1::-1] for line in neutral.read_text(encoding="utf-8").splitlines()]
    items: dict[str, int] = {}
    for text, ids in (row for row in rows if len(row) == 2):
        label = ours.get(int(ids)) if ids.strip().isdigit() else None  # single-label rows only
        clean = preprocess_light(_detokenize(text))
        if label is not None and clean:
            items.setdefault(clean, label)  # a line repeated across films counts once
    return _held_out(list(items), list(items.values()))


def read_turns(path: Path, option: str = "--chat") -> list[tuple[str, str, str]]:
    """``label<TAB>text`` lines, or with a kind, or a kind and a language, between the two, as
    (label, kind, text): the kind is "" in a file without one, and the text is the last field,
    with no tab in it."""
    _require(path, "a label<TAB>text file of chat turns", option)
    turns: list[tuple[str, str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) not in (2, 3, 4) or parts[0] not in EMOTIONS:
            raise ValueError(
                f"{path}:{number}: expected one of {EMOTIONS}, a tab, an optional kind and a tab,"
                " then the text"
            )
        turns.append((parts[0], parts[1] if len(parts) > 2 else "", parts[-1]))
    return turns


def load_chat_set(path: Path, option: str = "--chat") -> Split:
    """Our chat training sets and the chat evaluation sets alike (``read_turns``'s format)."""
    turns = read_turns(path, option)
    texts = [preprocess_light(text) for _, _, text in turns]
    labels = [EMOTIONS.index(label) for label, _, _ in turns]
    return Split(texts, np.asarray(labels, dtype=np.int64))


def load_chat_train(path: Path = CHAT_TRAIN) -> tuple[Split, Split]:
    """The project's chat training set as (train, dev): the dev part is fixed by the seed."""
    chat = load_chat_set(path)
    return _held_out(chat.texts, chat.labels.tolist())


def load_brighter(data_dir: Path, language: str, split: str) -> Split:
    """BRIGHTER's rows as single labels: a row with exactly one emotion takes it, a row with none
    is neutral, a row with several is left out (the protocol of issue 26 and the model card)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = data_dir / split / f"{language}.csv"
    _require(
        path, "a copy of BRIGHTER track A (train/, dev/, test/ of <language>.csv)", "--brighter"
    )
    texts: list[str] = []
    labels: list[int] = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            felt = [e for e in EMOTIONS if row.get(e, "").strip() == "1"]
            if len(felt) <= 1 and (text := preprocess_light(row["text"])):
                texts.append(text)
                labels.append(EMOTIONS.index(felt[0] if felt else "neutral"))
    return Split(texts, np.asarray(labels, dtype=np.int64))


def _held_out(texts: list[str], labels: list[int]) -> tuple[Split, Split]:
    from sklearn.model_selection import train_test_split  # here: the CLI need not load sklearn

    train_x, dev_x, train_y, dev_y = train_test_split(
        texts, labels, test_size=DEV_FRACTION, random_state=SPLIT_SEED, stratify=labels
    )
    return (
        Split(list(train_x), np.asarray(train_y, dtype=np.int64)),
        Split(list(dev_x), np.asarray(dev_y, dtype=np.int64)),
    )


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def goemotions_hashes(data_dir: Path) -> dict[str, str]:
    """sha256 of the GoEmotions files training reads (not test: it is for reporting only)."""
    return {
        f"goemotions/{name}": file_sha256(data_dir / name)
        for name in ("train.tsv", "dev.tsv", "labels.txt")
    }


def data_hashes(goemotions: Path, xed: Path, chat: Path, hard: Path) -> dict[str, str]:
    """sha256 of every file training reads, so a manifest proves which data made it."""
    return goemotions_hashes(goemotions) | {
        "xed/en-annotated.tsv": file_sha256(xed / "en-annotated.tsv"),
        "xed/neu_en.txt": file_sha256(xed / "neu_en.txt"),
        "chat_train.tsv": file_sha256(chat),
        "hard_train.tsv": file_sha256(hard),
    }
