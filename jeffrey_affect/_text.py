"""The one text normalisation shared by training and every route."""

import unicodedata

MAX_CHARS = 1000
"""Longer turns are cut here: it bounds encoder latency, and the emotion is rarely past it."""

RAW_CHARS = 4 * MAX_CHARS
"""Read before anything else: a 10 MB turn costs what a short one does. The room over MAX_CHARS
is for whitespace and control characters, which normalisation removes."""

_ZWJ = "\u200d"
"""The zero-width joiner is a format character but stays: it glues emoji such as 👩‍💻."""


def preprocess_light(text: str) -> str:
    """Cut to RAW_CHARS, NFKC, control characters out, whitespace collapsed, length capped.

    Case, punctuation and emoji are kept: they carry emotion ("WHY", "!!!", "😡"). Every step but
    the rare removal of control and format characters is a C-level string method. The classifier
    applies it to every turn, and its cache is keyed on the result.

    Args:
        text: A user's turn, of any length.

    Returns:
        The normalised turn, at most 1,000 characters.

    Example:
        >>> from jeffrey_affect import preprocess_light
        >>> preprocess_light("  WHY\\u200b is it   broken?!\\n😡 ")
        'WHY is it broken?! 😡'
    """
    text = " ".join(unicodedata.normalize("NFKC", text[:RAW_CHARS]).split())
    # With whitespace collapsed, isprintable() is false exactly for category C characters.
    if not text.replace(_ZWJ, "").isprintable():
        kept = (ch for ch in text if ch == _ZWJ or not unicodedata.category(ch).startswith("C"))
        text = " ".join("".join(kept).split())
    return text[:MAX_CHARS].rstrip()
