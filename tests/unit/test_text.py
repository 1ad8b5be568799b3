import re
import unicodedata
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jeffrey_affect import preprocess_light
from jeffrey_affect._text import MAX_CHARS, RAW_CHARS

_WHITESPACE = re.compile(r"\s+")


def reference(text: str) -> str:
    """preprocess_light as it was written before its fast path: one character at a time."""
    text = unicodedata.normalize("NFKC", text)
    text = _WHITESPACE.sub(" ", text)
    text = "".join(
        ch for ch in text if ch == "\u200d" or not unicodedata.category(ch).startswith("C")
    )
    return _WHITESPACE.sub(" ", text).strip()[:MAX_CHARS].rstrip()


# Whitespace, control, format, private-use, unassigned and surrogate characters, and those NFKC
# changes, mixed into ordinary text, so that both paths are taken often.
AWKWARD = st.sampled_from(
    " \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000"
    "\x00\x07\x7f\x9f\xad\u200b\u200c\u200d\u200e\u2066\ufeff\ue000\U000f0000\u0378\ud800"
    "\ufb01\u2460\uff21\u1e9b\u0301\u00bd\u2126"
)
TEXTS = st.text(st.characters() | AWKWARD, max_size=300) | st.text(
    st.sampled_from("ab ") | AWKWARD, min_size=MAX_CHARS - 10, max_size=MAX_CHARS + 40
)


@settings(max_examples=2000)
@given(TEXTS)
def test_equals_the_per_character_reference(text: str) -> None:
    assert preprocess_light(text) == reference(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  hello \n\t world  ", "hello world"),
        ("a \x00 b", "a b"),
        ("\u200bzero\u200bwidth\ufeff", "zerowidth"),
        ("👩\u200d💻 at work", "👩\u200d💻 at work"),
        ("\ufb01ne \uff21\uff22\uff23", "fine ABC"),
        ("x" * (MAX_CHARS - 1) + " y", "x" * (MAX_CHARS - 1)),
    ],
)
def test_examples(text: str, expected: str) -> None:
    assert preprocess_light(text) == expected


def test_a_huge_turn_is_cut_before_it_is_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    normalised: list[int] = []

    def recording(form: str, text: str) -> str:
        normalised.append(len(text))
        return unicodedata.normalize(form, text)

    fake = SimpleNamespace(normalize=recording, category=unicodedata.category)
    monkeypatch.setattr("jeffrey_affect._text.unicodedata", fake)
    huge = "so   tired\u0000 of this " * 1_000_000  # 24 MB
    assert preprocess_light(huge) == reference(huge[:RAW_CHARS])
    assert normalised == [RAW_CHARS]
