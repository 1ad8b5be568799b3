"""The one text normalisation shared by training and every route."""

import re
import unicodedata

MAX_CHARS = 1000
"""Longer turns are cut here: it bounds encoder latency, and the emotion is rarely past it."""

_WHITESPACE = re.compile(r"\s+")


def preprocess_light(text: str) -> str:
    """NFKC, control characters out, whitespace collapsed, length capped.

    Case, punctuation and emoji are kept: they carry emotion ("WHY", "!!!", "😡").
    """
    text = unicodedata.normalize("NFKC", text)
    text = _WHITESPACE.sub(" ", text)
    text = "".join(
        ch for ch in text if ch == "\u200d" or not unicodedata.category(ch).startswith("C")
    )
    return _WHITESPACE.sub(" ", text).strip()[:MAX_CHARS].rstrip()
