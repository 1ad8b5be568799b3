"""Redact PII from user text before a prediction log line keeps it.

The passes run in a fixed order because the kinds overlap: an e-mail is taken before the URL
pattern can leave its local part behind, and IBANs and payment cards before IP addresses and
phones so that their digits are not read as either. Every pattern starts on a boundary and
bounds or possesses its repetitions, so hostile input stays linear.
"""

import ipaddress
import re
import string
from bisect import bisect_right
from collections.abc import Callable

MARGIN = 130
"""Redacting a cut text still catches every PII starting at least MARGIN characters before the cut.

An e-mail is caught once its local part, "@", first label and ".x" are in (64 + 1 + 63 + 2, RFC
5321), a URL from its first characters, and every other kind is at most 45 characters long.
"""

_ATEXT = r"[\w.!#$%&'*+/=?^`{|}~-]"  # RFC 5322 local-part characters
# A local part may not start with the "//" of a scheme URL: "https://bob@host/x" is the URL's.
_EMAIL = re.compile(rf"(?<!{_ATEXT})(?!(?<=:)//){_ATEXT}+@[\w-]+(?:\.[\w-]+)+")

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]*[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)

# Runs that may hold an IBAN or a card; a window of whole chunks in the run is validated.
_IBAN_RUN = re.compile(
    r"(?<![A-Z0-9])[A-Z]{2}[0-9]{2}[A-Z0-9]*(?: [A-Z0-9]{4}(?![A-Z0-9]))*(?: [A-Z0-9]{1,3})?",
    re.ASCII | re.IGNORECASE,
)
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", re.ASCII)
_IBAN_LETTERS = {ord(c): str(n) for n, c in enumerate(string.ascii_uppercase, 10)}  # A=10 .. Z=35
_IBAN_MAX_LEN = 34 + 8  # the longest IBAN, written in groups of four
# Printed cards group digits by four to six; shorter chunks are dates, counts and prices.
_CARD_RUN = re.compile(r"(?<![0-9+])[0-9]{3,}(?:[ -][0-9]{3,})*", re.ASCII)
_CARD_MAX_LEN = 19 + 5  # 19 digits in at most six chunks
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # digit sum of 2 * d
_CHUNK = re.compile(r"[^ -]+")

_IPV6 = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Fa-f]:)(?:[0-9A-Fa-f]{0,4}:){2,8}"
    r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.[0-9])",
    re.ASCII,
)
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = re.compile(
    rf"(?<![0-9A-Za-z.+])(?:{_OCTET}\.){{3}}{_OCTET}(?![0-9A-Za-z]|\.[0-9])", re.ASCII
)

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


def redact(text: str) -> str:
    """Replace PII with placeholders so that no log line keeps it."""
    text = _EMAIL.sub("<EMAIL>", text)
    text = _URL.sub("<URL>", text)
    text = _IBAN_RUN.sub(lambda m: _replace_windows(m[0], _is_iban, _IBAN_MAX_LEN, "<IBAN>"), text)
    text = _CARD_RUN.sub(lambda m: _replace_windows(m[0], _is_card, _CARD_MAX_LEN, "<CARD>"), text)
    text = _IPV6.sub(_ipv6, text)
    text = _IPV4.sub("<IP>", text)
    return _PHONE.sub(_phone, text)


def _replace_windows(run: str, is_valid: Callable[[str], bool], max_len: int, token: str) -> str:
    """Replace, left to right, the longest valid window of whole chunks.

    Trying every chunk as a start keeps "order 2024 4111 1111 1111 1111" from hiding its card
    behind a number that happens to share the run.
    """
    spans = [m.span() for m in _CHUNK.finditer(run)]
    ends = [end for _, end in spans]
    parts: list[str] = []
    done = i = 0
    while i < len(spans):
        start = spans[i][0]
        last = bisect_right(ends, start + max_len, lo=i) - 1
        j = next((k for k in range(last, i - 1, -1) if is_valid(run[start : ends[k]])), None)
        if j is None:
            i += 1
            continue
        parts += [run[done:start], token]
        done, i = ends[j], j + 1
    return "".join([*parts, run[done:]])


def _is_card(window: str) -> bool:
    digits = window.replace(" ", "").replace("-", "")
    if not 13 <= len(digits) <= 19:
        return False
    doubled = digits[-2::-2].translate(_LUHN_DOUBLED)
    return (sum(map(int, digits[-1::-2])) + sum(map(int, doubled))) % 10 == 0


def _is_iban(window: str) -> bool:
    iban = window.replace(" ", "").upper()
    if not _IBAN_SHAPE.fullmatch(iban):
        return False
    return int((iban[4:] + iban[:4]).translate(_IBAN_LETTERS)) % 97 == 1


def _ipv6(match: re.Match[str]) -> str:
    try:
        ipaddress.IPv6Address(match[0])
    except ValueError:
        return match[0]
    return "<IP>"


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match[0])
    return "<PHONE>" if 7 <= digits <= 15 else match[0]
