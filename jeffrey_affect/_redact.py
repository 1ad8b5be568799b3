"""Redact PII and secrets from user text before a prediction log line keeps it.

Matching runs on a folded copy of the text that replaces each character by exactly one: its
NFKC form when that is a single character, with every Unicode digit made ASCII and every dash
and space made "-" and " ". Offsets therefore agree, so each span found on the folded copy is cut
out of the text as the user wrote it: what is not masked survives unchanged.

The passes run in a fixed order because the kinds overlap: JWTs and known key formats first,
since their characters would otherwise be read as URLs, cards or phones; an e-mail before the URL
pattern can leave its local part behind; IBANs, payment cards, SSNs and MAC addresses before IP
addresses and phones so that their digits are not read as either; phone numbers that
libphonenumber validates before the looser phone pattern, so that it cannot take part of one;
then the value of "password: ..." (a card or phone given as the value is already whole); long
random tokens last, once every kind with a placeholder of its own is gone. Every pattern starts
on a boundary and bounds or possesses its repetitions, so hostile input stays linear.
"""

import functools
import ipaddress
import re
import string
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from itertools import pairwise

from phonenumbers import Leniency, PhoneNumberMatcher

Span = tuple[int, int, str]  # start, end, placeholder

# Known credential formats: OpenAI and Anthropic, Stripe, GitHub, GitLab, Slack, AWS access key
# ids, Google API keys, Hugging Face, npm, SendGrid.
_SECRET = re.compile(
    r"""
    (?<![\w-])
    (?:
        sk-[\w-]{20,}+
      | (?:sk|pk|rk)_(?:live|test)_[0-9A-Za-z]{16,}+
      | gh[pousr]_[0-9A-Za-z]{30,}+ | github_pat_\w{30,}+
      | glpat-[\w-]{20,}+
      | xox[abposr]-[\w-]{10,}+
      | (?:AKIA|ASIA)[0-9A-Z]{16,}+
      | AIza[\w-]{35,}+
      | hf_[0-9A-Za-z]{30,}+ | npm_[0-9A-Za-z]{36,}+
      | SG\.[\w-]{16,}+\.[\w-]{16,}+
    )
    """,
    re.ASCII | re.VERBOSE,
)
_JWT = re.compile(r"(?<![\w-])eyJ[\w-]{8,}+\.[\w-]{8,}+\.[\w-]*+", re.ASCII)

MARGIN = 130
"""Redacting a cut text still catches every PII starting at least MARGIN characters before the cut.

An e-mail is caught once its local part, "@", first label and ".x" are in (64 + 1 + 63 + 2, RFC
5321), a URL from its first characters, and every other kind is at most 45 characters long.
"""

_ATEXT = r"[\w.!#$%&'*+/=?^`{|}~-]"  # RFC 5322 local-part characters
# A local part may not start with the "//" of a scheme URL: "https://bob@host/x" is the URL's.
_EMAIL = re.compile(rf"(?<!{_ATEXT})(?!(?<=:)//){_ATEXT}+@[\w-]+(?:\.[\w-]+)+")

# A scheme, "www." or a bare domain followed by a path: "example.com/reset?token=...".
_URL = re.compile(
    r"(?:\b(?:https?://|www\.)|(?<![\w.@-])(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}/)"
    r"[^\s<>\"]*[^\s<>\"'.,;:!?)\]}]",
    re.ASCII | re.IGNORECASE,
)

# Runs that may hold an IBAN or a card; a window of whole chunks in the run is validated.
_IBAN_RUN = re.compile(
    r"(?<![A-Z0-9])[A-Z]{2}[0-9]{2}[A-Z0-9]*(?:[ -][A-Z0-9]{4}(?![A-Z0-9]))*(?:[ -][A-Z0-9]{1,3})?",
    re.ASCII | re.IGNORECASE,
)
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", re.ASCII)
_IBAN_LETTERS = {ord(c): str(n) for n, c in enumerate(string.ascii_uppercase, 10)}  # A=10 .. Z=35
_IBAN_MAX_LEN = 34 + 8  # the longest IBAN, written in groups of four
# Printed cards group digits by four to six; shorter chunks are dates, counts and prices.
_CARD_RUN = re.compile(r"(?<![0-9+])[0-9]{3,}(?:[ .-][0-9]{3,})*", re.ASCII)
_CARD_MAX_LEN = 19 + 5  # 19 digits in at most six chunks
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # digit sum of 2 * d
_CHUNK = re.compile(r"[^ .-]+")
_NO_SEPARATORS = str.maketrans("", "", " .-")

# Never issued: area 000, 666 or 9xx, group 00, serial 0000. Not a piece of a longer number.
_SSN = re.compile(
    r"(?<![\w.+-])(?<![0-9][ .-])(?!000|666|9)[0-9]{3}([ -])(?!00)[0-9]{2}\1(?!0000)[0-9]{4}"
    r"(?!\w|[ .-][0-9])",
    re.ASCII,
)
_MAC = re.compile(
    r"(?<![\w:.-])(?:[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}|[0-9a-f]{4}(?:\.[0-9a-f]{4}){2})"
    r"(?![\w:-]|\.\w)",
    re.ASCII | re.IGNORECASE,
)

_IPV6 = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Fa-f]:)(?:[0-9A-Fa-f]{0,4}:){2,8}"
    r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.[0-9])",
    re.ASCII,
)
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = re.compile(
    rf"(?<![0-9A-Za-z.+])(?:{_OCTET}\.){{3}}{_OCTET}(?![0-9A-Za-z]|\.[0-9])", re.ASCII
)

# National formats are read with libphonenumber's metadata for the regions most users write
# from: North America (US metadata covers Canada and the rest of +1), the UK, India and
# Australia, the four largest EU countries, Brazil and Mexico. Leniency VALID: the number must
# be valid in its region; the stricter grouping leniencies miss everyday spacings such as
# "0612 345 678" or "98 765 43210". Each region costs some 50 to 200 us per run of digits, so
# only runs of seven or more digits are handed to it, and the regions stop once a run is taken.
_PHONE_REGIONS = ("US", "GB", "IN", "AU", "DE", "FR", "ES", "IT", "BR", "MX")
_PHONE_RUN = re.compile(
    r"(?<![A-Za-z0-9])[+(]?[0-9](?:[ ()./-]{0,3}[0-9]){6,}+\)?(?![A-Za-z0-9])", re.ASCII
)
# Shapes the metadata cannot vouch for: local numbers and unknown country codes.
_PHONE = re.compile(
    r"""
    (?<![\w+.-])
    (?:
        \+[0-9]{1,3}(?:[ .-]?(?:\([0-9]{1,4}\)|[0-9]{1,4}+)){2,5}+           # +44 20 7946 0958
      | (?:1[ .-]?)?(?:\([0-9]{3}\)\ ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}  # (202) 555-0143
      | 0[0-9]{1,4}[ .-][0-9]{3,4}[ .-]?[0-9]{3,4}                         # 020 7946 0958
      | [0-9]{3}[.-][0-9]{4}                                              # 555-0143
    )
    (?!\w|[.-][0-9])
    """,
    re.ASCII | re.VERBOSE,
)

# "password: x", "DB_PASSWORD=x", '"api_key": "x"', and "my pin is 1234" when the value holds a
# digit or symbol (so "my password is wrong" keeps its word). Only the value is masked.
_KEY_VALUE = re.compile(
    r"""
    (?<![\w-])(?:[\w-]{0,30}[_.-])?
    (?:pass(?:word|wd|phrase|code)?|pwd|pin|otp|cvc|cvv|secret|token
      |(?:api|access|private|secret)[_ -]?key|client[_ -]?secret)
    ["']?\ {0,3}
    (?:[:=]|\ (?:is|was)\ (?=\S*[0-9@#$%^&*_+=~]))
    \ {0,3}
    (?P<value>"[^"\n]{1,200}+"|'[^'\n]{1,200}+'|\S++)
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)

# Long runs of token characters: API keys without a known prefix, hex digests, base64.
_TOKEN = re.compile(r"(?<![\w+/=-])[\w+/=-]{20,}+", re.ASCII)
_TOKEN_KIND = str.maketrans(
    string.ascii_lowercase + string.ascii_uppercase + string.digits,
    "a" * 26 + "A" * 26 + "0" * 10,
    "_+/=-",
)


def redact(text: str) -> str:
    """Replace PII and secrets with placeholders so that no log line keeps them.

    The README lists what is masked and what is not. Use it inside your own
    ``AffectConfig(redactor=...)`` to add rules after the built-in ones.

    Args:
        text: Any text.

    Returns:
        ``text`` with each match replaced by ``<SECRET>``, ``<EMAIL>``, ``<URL>``, ``<IBAN>``,
        ``<CARD>``, ``<SSN>``, ``<MAC>``, ``<IP>`` or ``<PHONE>``; the rest as written.

    Example:
        >>> from jeffrey_affect import redact
        >>> redact("mail me at jo@example.com or call +44 20 7946 0958, order #123456")
        'mail me at <EMAIL> or call <PHONE>, order #123456'
    """
    shown = text
    folded = text if text.isascii() else "".join(map(_fold, text))
    for needs, _, find in _PASSES:
        if needs is not None and not needs.search(folded):
            continue
        spans = sorted(find(folded))
        if spans:
            folded, shown = _splice(folded, spans), _splice(shown, spans)
    return shown


@functools.cache
def _fold(char: str) -> str:
    """The one character that the patterns see for ``char``; see the module docstring."""
    nfkc = unicodedata.normalize("NFKC", char)
    folded = nfkc if len(nfkc) == 1 else char
    if folded.isdecimal():
        return str(unicodedata.decimal(folded))
    category = unicodedata.category(folded)
    if category == "Pd" or folded == "\u2212":  # dashes and the minus sign
        return "-"
    return " " if category == "Zs" else folded


def _splice(text: str, spans: list[Span]) -> str:
    """Put each span's placeholder in its place; spans that overlap are merged into the first."""
    parts: list[str] = []
    done = 0
    for start, end, token in spans:
        if start >= done:
            parts += [text[done:start], token]
        done = max(done, end)
    return "".join([*parts, text[done:]])


def _matches(
    pattern: re.Pattern[str],
    token: str,
    is_valid: Callable[[str], bool] | None = None,
    group: str | int = 0,
) -> Callable[[str], Iterator[Span]]:
    """Each match of ``pattern``, or of its ``group``, that ``is_valid`` accepts."""

    def find(text: str) -> Iterator[Span]:
        for match in pattern.finditer(text):
            if is_valid is None or is_valid(match[group]):
                yield match.start(group), match.end(group), token

    return find


def _windows(
    pattern: re.Pattern[str], is_valid: Callable[[str], bool], max_len: int, token: str
) -> Callable[[str], Iterator[Span]]:
    """In each run of ``pattern``, take left to right the longest valid window of whole chunks.

    Trying every chunk as a start keeps "order 2024 4111 1111 1111 1111" from hiding its card
    behind a number that happens to share the run.
    """

    def find(text: str) -> Iterator[Span]:
        for run in pattern.finditer(text):
            spans = [m.span() for m in _CHUNK.finditer(run[0])]
            ends = [end for _, end in spans]
            i = 0
            while i < len(spans):
                start = spans[i][0]
                last = bisect_right(ends, start + max_len, lo=i) - 1
                valid = (k for k in range(last, i - 1, -1) if is_valid(run[0][start : ends[k]]))
                j = next(valid, None)
                if j is None:
                    i += 1
                    continue
                yield run.start() + start, run.start() + ends[j], token
                i = j + 1

    return find


def _is_card(window: str) -> bool:
    digits = window.translate(_NO_SEPARATORS)
    if not 13 <= len(digits) <= 19:
        return False
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def _is_iban(window: str) -> bool:
    iban = window.translate(_NO_SEPARATORS).upper()
    if not _IBAN_SHAPE.fullmatch(iban):
        return False
    return int((iban[4:] + iban[:4]).translate(_IBAN_LETTERS)) % 97 == 1


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _national_phones(text: str) -> Iterator[Span]:
    """Phone numbers that libphonenumber finds valid in any of ``_PHONE_REGIONS``.

    It reads each run with the character before and three after, as it would in the whole text,
    to turn down "$2025550143" or the "2024-05-01 10" of "2024-05-01 10:30". Regions may each
    find part of one number (their spans are merged); they stop once every digit is inside one.
    """
    for run in _PHONE_RUN.finditer(text):
        start = max(run.start() - 1, 0)
        window = left = text[start : run.end() + 3]
        for region in _PHONE_REGIONS:
            for match in PhoneNumberMatcher(window, region, leniency=Leniency.VALID):
                if _has_phone_length(match.raw_string):
                    yield start + match.start, start + match.end, "<PHONE>"
                    left = left[: match.start] + " " * (match.end - match.start) + left[match.end :]
            if not any(map(str.isdigit, left)):
                break


def _has_phone_length(candidate: str) -> bool:
    return 7 <= sum(c.isdigit() for c in candidate) <= 15


def _is_random(run: str) -> bool:
    """Whether a run reads as a generated token rather than words or numbers.

    Random tokens switch between lower case, upper case and digits at about every other
    character (hex at nearly one in two, base64 at three in five); "my_variable_name_2024" or
    "build-2024-05-01-nightly" switch once or twice.
    """
    kinds = run.translate(_TOKEN_KIND)  # "a", "A" or "0" per character, separators dropped
    switches = sum(a != b for a, b in pairwise(kinds))
    has_letter = "a" in kinds or "A" in kinds
    return "0" in kinds and has_letter and 5 * switches >= len(kinds) - 1


_DIGIT = re.compile("[0-9]")

_PASSES: tuple[
    tuple[re.Pattern[str] | None, re.Pattern[str], Callable[[str], Iterator[Span]]], ...
] = (
    (re.compile("eyJ"), _JWT, _matches(_JWT, "<SECRET>")),
    (None, _SECRET, _matches(_SECRET, "<SECRET>")),
    (re.compile("@"), _EMAIL, _matches(_EMAIL, "<EMAIL>")),
    (re.compile(r"/|www\.", re.ASCII | re.IGNORECASE), _URL, _matches(_URL, "<URL>")),
    (_DIGIT, _IBAN_RUN, _windows(_IBAN_RUN, _is_iban, _IBAN_MAX_LEN, "<IBAN>")),
    (_DIGIT, _CARD_RUN, _windows(_CARD_RUN, _is_card, _CARD_MAX_LEN, "<CARD>")),
    (_DIGIT, _SSN, _matches(_SSN, "<SSN>")),
    (None, _MAC, _matches(_MAC, "<MAC>")),
    (re.compile(":"), _IPV6, _matches(_IPV6, "<IP>", _is_ipv6)),
    (_DIGIT, _IPV4, _matches(_IPV4, "<IP>")),
    (_DIGIT, _PHONE_RUN, _national_phones),
    (_DIGIT, _PHONE, _matches(_PHONE, "<PHONE>", _has_phone_length)),
    (None, _KEY_VALUE, _matches(_KEY_VALUE, "<SECRET>", group="value")),
    (None, _TOKEN, _matches(_TOKEN, "<SECRET>", _is_random)),
)
"""Each pass: what any match of its pattern holds (a chat turn rarely has a digit, an "@" or a
":", so most passes are skipped by one quick search), its pattern, and the pass itself. A test
draws strings from each pattern to hold the first part true."""
