"""Reading the corpora and chat sets: a missing or malformed file says what to fix."""

from pathlib import Path

import pytest

from jeffrey_affect._data import load_brighter, load_chat_set, load_split
from jeffrey_affect._labels import EMOTIONS


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("joy\thello\nglee\twhat a day\n", ":2: expected one of"),
        ("joy hello\n", ":1: expected one of"),
        ("joy\tsarcasm\ten\tx\thello\n", ":1: expected one of"),
    ],
)
def test_a_malformed_chat_set_is_named_with_its_line(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "chat.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_chat_set(path, "--chat-set")


def test_a_missing_chat_set_says_which_option_to_pass(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--chat-set"):
        load_chat_set(tmp_path / "absent.tsv", "--chat-set")


def test_load_split_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="GoEmotions"):
        load_split(tmp_path, "train")


def test_a_kind_column_is_read_past(tmp_path: Path) -> None:
    path = tmp_path / "hard.tsv"
    path.write_text("frustration\tsarcasm\toh great, it broke\njoy\tthanks!\n", encoding="utf-8")
    chat = load_chat_set(path)
    assert chat.texts == ["oh great, it broke", "thanks!"] and chat.labels.tolist() == [2, 0]


def test_a_language_column_is_read_past_too(tmp_path: Path) -> None:
    path = tmp_path / "hard_multilingual.tsv"
    path.write_text("anger\tunfair\tfr\tils ont gardé ma caution\n", encoding="utf-8")
    chat = load_chat_set(path)
    assert chat.texts == ["ils ont gardé ma caution"] and chat.labels.tolist() == [4]


def test_brighter_rows_follow_the_protocol(tmp_path: Path) -> None:
    """One emotion: that label; none: neutral; several: left out; a blank text: left out."""
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / "deu.csv").write_text(
        "id,text,anger,fear,joy,sadness,surprise\n"
        "1,Warum zur Hölle,1,0,0,0,0\n"
        '2,"Gut, danke",0,0,0,0,0\n'
        "3,Angst und Wut,1,1,0,0,0\n"
        "4, ,0,0,1,0,0\n",
        encoding="utf-8",
    )
    split = load_brighter(tmp_path, "deu", "test")
    assert split.texts == ["Warum zur Hölle", "Gut, danke"]
    assert [EMOTIONS[i] for i in split.labels] == ["anger", "neutral"]


def test_brighter_says_where_to_point_when_absent(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="--brighter"):
        load_brighter(tmp_path, "deu", "train")
