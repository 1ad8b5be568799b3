"""The language of a chat turn, for the router: which encoder serves it, or that none does.

English goes to the English encoder, the other SUPPORTED_LANGUAGES to the multilingual one. A turn
in any other language is named, so the result can say which language is not supported. A turn too
short or too bare to tell ("ok", "mdr", "jajaja", "???", an emoji, "thx") is undetermined (None) and
takes the English path: it is never flagged as unsupported.

py3langid's naive Bayes model scores all of its languages, so unsupported ones can be named. Short
turns in a supported language are often read by it as a neighbour (Afrikaans for Dutch, Galician
for Portuguese, Latin or Occitan for Italian or French), so the rule leans towards the supported
languages: the best of them is kept unless another language is ten times as probable, and an
unsupported language is named only with three different words of two letters or more, or three
letters of a non-Latin script making two thirds of the turn (no supported language uses one).
Thresholds, and the figures that chose them: benchmarks/LANGUAGE_ID.md.

Mixed turns get the language with the most evidence, with that lean: a French turn with an English
word stays French, an English one with a French word English, though in two or three words the
one foreign word can tip it ("Bin so happy heute!" reads as English); a turn that switches between
an unsupported and a supported language (Swahili and English, say) reads as the supported one
whenever that one is at least a tenth as probable, and takes its encoder. Names, numbers and
emoji carry little evidence: what counts is the words around them.
"""

import threading
from typing import Final

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from jeffrey_affect._text import MAX_CHARS

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "it", "pt", "nl")
"""ISO 639-1 codes of the languages an encoder serves; English first, as the English encoder's."""

MIN_LETTERS: Final = 3
"""Fewer letters than this ("ok", "??", an emoji) and the turn is undetermined."""

MIN_SUPPORTED_PROBABILITY: Final = 0.1
"""The best supported language is named from this probability; below it, short turns' guesses were
wrong a third of the time and more, and English and the others were confused (dev data)."""

UNSUPPORTED_MARGIN: Final = 10.0
"""An unsupported language wins only when this many times as probable as the best supported one."""

MIN_UNSUPPORTED_PROBABILITY: Final = 0.1
"""...and at least this probable: a flat score names nothing."""

MIN_UNSUPPORTED_WORDS: Final = 3
"""...and with this many different words (or, in a non-Latin script, letters) behind it."""

_MACROLANGUAGE: Final = {
    "ary": "ar",  # Moroccan Arabic
    "arz": "ar",  # Egyptian Arabic
    "fuv": "ff",  # Nigerian Fulfulde
    "gug": "gn",  # Paraguayan Guaraní
    "kik": "ki",  # Kikuyu (ISO 639-2 code of an ISO 639-1 language)
    "ltg": "lv",  # Latgalian
    "sdh": "ku",  # Southern Kurdish
    "uzs": "uz",  # Southern Uzbek
    "wuu": "zh",  # Wu Chinese
    "yue": "zh",  # Cantonese
}
"""py3langid's three-letter labels inside an ISO 639-1 (macro)language. Its other three-letter
labels have no ISO 639-1 code (creoles, regional and historic varieties, "zxx" for no language):
their probability is dropped, which leaves it to the languages around them (a Nigerian Pidgin turn
reads as English, an Extremaduran one as Spanish)."""

_identifier: LanguageIdentifier | None = None
_identifier_lock = threading.Lock()


def _get_identifier() -> LanguageIdentifier:
    """The model, loaded once on first use (about 0.6 s): importing the package stays cheap."""
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def load() -> None:
    """Load the model now: a classifier does it at start-up, so its first turn does not wait."""
    _get_identifier()


def _iso_639_1(label: str) -> str | None:
    return label if len(label) == 2 else _MACROLANGUAGE.get(label)


def _is_latin(letter: str) -> bool:
    """Basic Latin to Latin Extended-B, and Latin Extended Additional (Vietnamese)."""
    return letter < "\u0250" or "\u1e00" <= letter <= "\u1eff"


def _enough_evidence(text: str) -> bool:
    """Enough text to name an unsupported language: three different words, or three letters of a
    non-Latin script making two thirds of the text (Chinese and Japanese put no space between words;
    kaomoji such as "(ノಠ益ಠ)ノ彡┻━┻" are mostly symbols). A word counts from two letters ("ᕕ( ᐛ )ᕗ"
    has none), and once: "bäh bäh bäh" is one word."""
    non_latin = sum(1 for ch in text if ch.isalpha() and not _is_latin(ch))
    non_space = len(text) - sum(1 for ch in text if ch.isspace())
    if non_latin >= MIN_UNSUPPORTED_WORDS and 3 * non_latin > 2 * non_space:
        return True
    words = {"".join(filter(str.isalpha, word)) for word in text.lower().split()}
    return sum(1 for word in words if len(word) >= 2) >= MIN_UNSUPPORTED_WORDS


def identify(text: str) -> str | None:
    """The turn's ISO 639-1 code, supported or not, or None where it cannot be told.

    Args:
        text: A chat turn; only its first MAX_CHARS characters are read.

    Returns:
        One of SUPPORTED_LANGUAGES; another language's code when the turn is clearly in it; None
        when the turn has too few letters or no language is probable enough.

    Example:
        >>> identify("Je suis vraiment déçu par votre service.")
        'fr'
        >>> identify("Habari yako, rafiki yangu? Nimefurahi sana leo.")
        'sw'
        >>> identify("ok") is None
        True
    """
    text = text[:MAX_CHARS]
    if sum(1 for ch in text if ch.isalpha()) < MIN_LETTERS:
        return None
    ranked: list[tuple[str, float]] = _get_identifier().rank(text)  # py3langid has no types
    probabilities: dict[str, float] = {}
    for label, probability in ranked:
        code = _iso_639_1(label)
        if code is not None:
            probabilities[code] = probabilities.get(code, 0.0) + probability
    total = sum(probabilities.values())
    if total <= 0.0:  # all of it on languages without an ISO 639-1 code
        return None
    best = max(probabilities, key=probabilities.__getitem__)
    supported = max(SUPPORTED_LANGUAGES, key=lambda code: probabilities.get(code, 0.0))
    p_best, p_supported = probabilities[best] / total, probabilities.get(supported, 0.0) / total
    if p_supported * UNSUPPORTED_MARGIN >= p_best:
        return supported if p_supported >= MIN_SUPPORTED_PROBABILITY else None
    if p_best >= MIN_UNSUPPORTED_PROBABILITY and _enough_evidence(text):
        return best
    return None
