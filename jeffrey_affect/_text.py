"""The one text normalisation shared by training and every route."""

import unicodedata

MAX_CHARS = 1000
"""Longer turns are cut here: it bounds encoder latency, and the emotion is rarely past it."""

_ZWJ = "\u200d"
"""The zero-width joiner is a format character but stays: it glues emoji such as 👩‍💻."""


def preprocess_light(text: str) -> str:
    """NFKC, control characters out, whitespace collapsed, length capped.

    Case, punctuation and emoji are kept: they carry emotion ("WHY", "!!!", "😡"). Every step but
    the rare removal of control and format characters is a C-level string method.
    """
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    # With whitespace collapsed, isprintable() is false exactly for category C characters.
    if not text.replace(_ZWJ, "").isprintable():
        kept = (ch for ch in text if ch == _ZWJ or not unicodedata.category(ch).startswith("C"))
        text = " ".join("".join(kept).split())
    return text[:MAX_CHARS].rstrip()
