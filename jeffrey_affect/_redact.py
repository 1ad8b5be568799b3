"""Redact PII and secrets from user text before a prediction log line keeps it.

Matching runs on a folded copy of the text that replaces each character by at most one: its NFKC
form when that is a single character, with every Unicode digit made ASCII and every dash and space
made "-" and " ", and nothing for a zero-width or combining character, so that "4\u200d111" or a
strike-through on every digit reads as plain digits. Each character of the folded copy stands for
a piece of the text as the user wrote it (the character, with the zero-width and combining ones
after it), so each span found on the folded copy is cut out of the pieces: what is not masked
survives unchanged.

The passes run in a fixed order because the kinds overlap: JWTs and known key formats first,
since their characters would otherwise be read as URLs, cards or phones; the credentials of a
connection string before the e-mail pattern can take "pw@host.net" from it; an e-mail before the
URL pattern can leave its local part behind; IBANs, payment cards, SSNs and MAC addresses before
IP addresses and phones so that their digits are not read as either; phone numbers that
libphonenumber validates before the looser phone pattern, so that it cannot take part of one;
then the codes and passwords that a word names (a card or phone given as the value is already
whole); long random tokens last, once every kind with a placeholder of its own is gone. Every
pattern starts on a boundary and bounds or possesses its repetitions, so hostile input stays
linear.
"""

import functools
import ipaddress
import re
import string
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import cast, overload

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
5321), a URL from its first characters, and every other kind is decided within MARGIN characters
of its start: the words around a password or a code are bounded to that end.
"""

_ATEXT = r"[\w.!#$%&'*+/=?^`{|}~-]"  # RFC 5322 local-part characters
# A local part may not start with the "//" of a scheme URL: "https://bob@host/x" is the URL's.
_EMAIL = re.compile(rf"(?<!{_ATEXT})(?!(?<=:)//){_ATEXT}+@[\w-]+(?:\.[\w-]+)+")

# An address written to dodge filters: "jo at gmail dot com", "jo[at]gmail.com", "jo @ gmail.com",
# "jo.doe (arroba) correo (punto) es". A plain "at" needs a spelled dot after it, so that "look at
# example.com" stays; the last label is letters, so that "me @ 5.30pm" stays.
_AT_WORDS = ("at", "arroba", "arobase")
_DOT_WORDS = ("dot", "punto", "point", "punkt", "ponto", "punt")
_SPELLED_AT = rf"(?:{'|'.join(_AT_WORDS)})"
_SPELLED_DOT = rf"(?:{'|'.join(_DOT_WORDS)})"
_BRACKETED = r"\ ?[\[({{<]\ ?{}\ ?[\])}}>]\ ?".format
_SPELLED_EMAIL = re.compile(
    rf"""
    (?<![\w.+-])[\w+-]{{1,30}}+
    (?:(?:\.|\ {_SPELLED_DOT}\ |{_BRACKETED(_SPELLED_DOT)})[\w+-]{{1,30}}+)?
    (?:
        (?:\ ?@\ |\ @\ ?|{_BRACKETED(_SPELLED_AT)})
        (?:[\w-]{{1,30}}+(?:\.|\ {_SPELLED_DOT}\ |{_BRACKETED(_SPELLED_DOT)}))+
      | \ {_SPELLED_AT}\ (?:[\w-]{{1,30}}+(?:\ {_SPELLED_DOT}\ |{_BRACKETED(_SPELLED_DOT)}))+
    )
    [^\W\d_]{{2,30}}+(?![\w-])
    """,
    re.IGNORECASE | re.VERBOSE,
)

# A connection string's credentials, "postgresql://admin:pw@db:5432/app", "redis://:pw@cache":
# all between the scheme and the host's "@" (the last one, a password may hold one); the host
# stays. http(s) URLs are the URL pass's, which masks them whole.
_CREDENTIALS = re.compile(
    r"(?<![\w+.-])(?!https?://)[a-z][a-z0-9+.-]{0,19}://(?P<credentials>\S{1,100})@(?=[\w\[])",
    re.ASCII | re.IGNORECASE,
)

# A scheme, "www." or a bare domain followed by a path: "example.com/reset?token=...".
_URL = re.compile(
    r"(?:\b(?:https?://|www\.)|(?<![\w.@-])(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}/)"
    r"[^\s<>\"]*[^\s<>\"'.,;:!?)\]}]",
    re.ASCII | re.IGNORECASE,
)

# Runs that may hold an IBAN or a card; a window of whole chunks in the run is validated.
_IBAN_RUN = re.compile(
    r"(?<![A-Z0-9])[A-Z]{2}[0-9]{2}[A-Z0-9]*"
    r"(?:[ .-][A-Z0-9]{4}(?![A-Z0-9]))*(?:[ .-][A-Z0-9]{1,3})?",
    re.ASCII | re.IGNORECASE,
)
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", re.ASCII)
_IBAN_LETTERS = {ord(c): str(n) for n, c in enumerate(string.ascii_uppercase, 10)}  # A=10 .. Z=35
_IBAN_MAX_LEN = 34 + 8  # the longest IBAN, written in groups of four
# Printed cards group digits by four to six; shorter chunks are dates, counts and prices.
_CARD_RUN = re.compile(r"(?<![0-9+])[0-9]{3,}(?:[ ./-][0-9]{3,})*", re.ASCII)
_CARD_MAX_LEN = 19 + 5  # 19 digits in at most six chunks
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # digit sum of 2 * d
_CHUNK = re.compile(r"[^ ./-]+")
_NO_SEPARATORS = str.maketrans("", "", " ./-")

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

# Dates, versions and Unix timestamps that libphonenumber would take for a number somewhere, or
# Luhn for a card: "05.01.2024", "2024-05-01", "Chrome 120.0.6099.109" (a one-digit part, which no
# phone number is grouped with) and "timestamp 1701964800" or "ts=1701964800123" (only after a
# word that says so: a number in São Paulo or Delhi has the same ten digits). The card and phone
# passes do not see them; nothing masks them.
_DAY = r"(?:0?[1-9]|[12][0-9]|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)?[0-9]{2}"
_KEPT_NUMBERS = re.compile(
    rf"""
    (?<![0-9.+/-])
    (?:{_DAY}([./-]){_MONTH}\1{_YEAR} | {_MONTH}([./-]){_DAY}\2{_YEAR}
      | (?:19|20)[0-9]{{2}}([./-]){_MONTH}\3{_DAY})
    (?![0-9]|[./-][0-9])
  | (?<![0-9.+-])[0-9]{{1,4}}(?=(?:\.[0-9]+)*\.[0-9](?![0-9]))(?:\.[0-9]{{1,6}}){{2,4}}
    (?![0-9]|\.[0-9])
  | \b(?:timestamp|time\ stamp|epoch|unix(?:\ time)?|ts|[a-z]+_at)\W{{0,3}}
    1[0-9]{{9}}(?:[0-9]{{3}})?(?![0-9])
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)

# What may stand between a word that names a secret and its value: up to four short words ("for
# my account"), a verb that gives the value ("is", "ist", "est", "è", "é", "это", "to" as in
# "changed it to"), and a word after the verb ("now").
_FILLER = r"(?:\ [^\W\d_]{1,12}){0,4}?"
_IS = r"(?:is|was|to|ist|war|lautet|est|était|c'est|es|era|è|é|para|это)"
_NOW = r"(?:now|still|just|ahora|maintenant|jetzt|ora|agora|nu|теперь|сейчас)"
_SEPARATOR = r"\ {0,3}(?:[:=]|(?<=\ )-(?=\ ))\ {0,3}"  # ": ", "=", " - "

# One-time, verification and 2FA codes, a card's security code and PINs, after a word that
# names them, in the eight languages. A word that says what the code is for ("verification code",
# "OTP", "PIN", "Bestätigungscode", "código de verificación") may take the value right after it;
# a plain "code" must be followed by "is" or ":" before four digits, or by six digits (a one-time
# code's length), and must not be an error, status, product or order code.
_CODE_PURPOSE = (
    r"(?:verification|verify|confirmation|security|auth|authentication|authorization"
    r"|one[\ -]?time|log-?in|sign[\ -]?in|access|sms|text|2fa|mfa|otp|backup|recovery|reset"
    r"|activation|unlock|two[\ -]factor|2-step|mobile|e-?mail|bank|pairing)"
)
_CODE_PURPOSE_AFTER = (
    r"(?:de\ (?:v[ée]rification|confirmation|s[ée]curit[ée]|validation|acc[èe]s|verificaci[óo]n"
    r"|confirmaci[óo]n|seguridad|acceso|verifica[çc][ãa]o|confirma[çc][ãa]o|seguran[çc]a|acesso)"
    r"|di\ (?:verifica|conferma|sicurezza|accesso)|подтверждения|из\ смс|доступа|безопасности)"
)
_CODE_WORD = r"(?:code|c[óo]digo|codice|код)"
_CODE = re.compile(
    rf"""
    (?<![^\W_])
    (?:
        (?P<card>cvv2?|cvc2?|csc|security\ code|card\ code|sicherheitscode|kartenprüfnummer
          |cryptogramme|c[óo]digo\ de\ seguridad|code\ de\ s[ée]curit[ée]|codice\ di\ sicurezza
          |beveiligingscode)
      | (?P<named>otp|2fa|mfa|(?-i:TAN)|pin|пин|{_CODE_PURPOSE}[\ -]?code
          |[^\W\d_]{{1,20}}code|{_CODE_WORD}\ {_CODE_PURPOSE_AFTER}
          |(?:одноразовый|проверочный)\ код)
      | (?<!error\ )(?<!status\ )(?<!exit\ )(?<!http\ )(?<!response\ )(?<!return\ )
        (?<!product\ )(?<!item\ )(?<!order\ )(?<!tracking\ )(?<!area\ )(?<!country\ )
        (?<!source\ )
        (?P<plain>{_CODE_WORD})
    )
    (?:[\ -](?:code|number|nummer|num[ée]ro|n[úu]mero|код))?
    (?![^\W_])
    (?:{_FILLER}(?:\ {_IS})?{_SEPARATOR} | {_FILLER}\ {_IS}\  | \ (?P<bare>))
    (?P<value>(?:[A-Z]{{1,3}}-)?[0-9]{{1,8}}+(?:[\ -][0-9]{{2,4}}+){{0,3}})
    (?![\w%]|[.,][0-9])
    """,
    re.IGNORECASE | re.VERBOSE,
)
_CODE_STEMS: tuple[str, ...] = ("code", "codi", "códi", "код", "cvv", "cvc", "csc", "otp")
_CODE_STEMS += ("2fa", "mfa", "tan", "pin", "пин", "kartenprüf", "cryptogramme")
"""What every ``_CODE`` label holds, in any case."""

# The value after a word that names a password or a key, in English, German, French, Spanish,
# Portuguese, Dutch and Russian (Italian says "password"): "password: x", "DB_PASSWORD=x",
# '"api_key": "x"', "password - x", "the password for my account is: x". Given in prose ("my
# password is x", "I changed my password to x", "username jo password x") the value must look
# like a secret, a digit or symbol in its first 30 characters and four characters at least, so
# that "my password is wrong" keeps its word; a bare "pass" needs ":" or "is" ("season pass
# 2024"). Only the value is masked.
_PROSE_VALUE = r"(?=\S{0,29}[0-9@#$%^&*_+=~<>])(?=\S{4})"
_KEY_VALUE = re.compile(
    rf"""
    (?<![^\W_])
    (?:pass(?:word|wd|phrase|code)?|pwd?|passwort|kennwort|mot\ de\ passe|mdp|contrase[ñn]a|clave
      |senha|wachtwoord|пароль|secret|token|(?:api|access|private|secret)[_\ -]?key
      |client[_\ -]?secret|pin|otp|cvc|cvv)
    (?![^\W_])["']?
    (?:{_FILLER}(?:\ {_IS})?{_SEPARATOR}
      | {_FILLER}\ {_IS}(?:\ {_NOW})?\ {_PROSE_VALUE}
      | (?<!pass)\ {_PROSE_VALUE})
    (?P<value>"[^"\n]{{1,200}}+"|'[^'\n]{{1,200}}+'|\S++)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_KEY_STEMS: tuple[str, ...] = ("pass", "pw", "kennwort", "mdp", "contrase", "clave", "senha")
_KEY_STEMS += ("wachtwoord", "пароль", "secret", "token", "key", "pin", "otp", "cvc", "cvv")
"""What every ``_KEY_VALUE`` label holds, in any case."""

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
    folded = text if text.isascii() else "".join(map(_fold, text))
    shown: str | list[str] = text  # one piece of the text per folded character
    for needs, _, find in _PASSES:
        if needs is not None and not needs(folded):
            continue
        spans = sorted(find(folded))
        if spans:
            if len(shown) != len(folded):  # the fold dropped characters: cut the text up
                shown = _pieces(text)
            folded, shown = _splice(folded, spans), _splice(shown, spans)
    return shown if isinstance(shown, str) else "".join(shown)


_IGNORED = frozenset({"Cf", "Mn", "Me"})
"""Format characters (zero-width joiners and spaces, the soft hyphen) and combining marks: the
fold drops them, so that they cannot break a number or an address apart."""


@functools.cache
def _fold(char: str) -> str:
    """What the patterns see for ``char``, one character or none; see the module docstring."""
    if unicodedata.category(char) in _IGNORED:
        return ""
    nfkc = unicodedata.normalize("NFKC", char)
    folded = nfkc if len(nfkc) == 1 else char
    if folded.isdecimal():
        return str(unicodedata.decimal(folded))
    category = unicodedata.category(folded)
    if category == "Pd" or folded == "\u2212":  # dashes and the minus sign
        return "-"
    return " " if category == "Zs" else folded


def _pieces(text: str) -> list[str]:
    """``text`` cut into one piece per character that the fold keeps, each with the dropped
    characters that follow it (those before the first go with the first)."""
    pieces: list[str] = []
    dropped = ""
    for char in text:
        if not _fold(char):
            dropped += char
        elif pieces:
            pieces[-1] += dropped
            pieces.append(char)
            dropped = ""
        else:
            pieces.append(dropped + char)
            dropped = ""
    pieces[-1] += dropped
    return pieces


@overload
def _splice(text: str, spans: list[Span]) -> str: ...
@overload
def _splice(text: list[str], spans: list[Span]) -> list[str]: ...
def _splice(text: str | list[str], spans: list[Span]) -> str | list[str]:
    """Put each span's placeholder in its place; spans that overlap are merged into the first.
    In a list of pieces, each character of a placeholder is a piece."""
    parts: list[str | list[str]] = []
    done = 0
    for start, end, token in spans:
        if start >= done:
            parts += [text[done:start], token]
        done = max(done, end)
    parts.append(text[done:])
    if isinstance(text, str):
        return "".join(cast(list[str], parts))
    return [piece for part in parts for piece in part]


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


def _past_kept_numbers(find: Callable[[str], Iterator[Span]]) -> Callable[[str], Iterator[Span]]:
    """``find`` run on the text with ``_KEPT_NUMBERS`` blanked out, offsets unchanged."""
    return lambda text: find(_blank_kept_numbers(text))


@functools.lru_cache(maxsize=4)
def _blank_kept_numbers(text: str) -> str:
    """Cached: the card and phone passes see the same text unless a card was masked."""
    return _KEPT_NUMBERS.sub(lambda kept: " " * len(kept[0]), text)


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


def _codes(text: str) -> Iterator[Span]:
    """The value of each ``_CODE`` match with digits enough: three for a card's security code,
    six after a plain "code" with no "is" or ":", four for the others."""
    for match in _CODE.finditer(text):
        digits = sum(c.isdigit() for c in match["value"])
        plain_bare = match["plain"] is not None and match["bare"] is not None
        if digits >= (3 if match["card"] else 6 if plain_bare else 4):
            yield match.start("value"), match.end("value"), "<SECRET>"


def _holds(*stems: str, any_case: bool = False) -> Callable[[str], bool]:
    """Whether a text holds one of ``stems``: a few substring searches, far cheaper than running
    a pattern that needs one of them."""
    if not any_case:
        return lambda text: any(stem in text for stem in stems)
    folded = tuple(stem.casefold() for stem in stems)

    def holds(text: str) -> bool:
        text = text.casefold()
        return any(stem in text for stem in folded)

    return holds


def _both(*tests: Callable[[str], object]) -> Callable[[str], bool]:
    """Quick tests chained, the cheapest first: a pass that needs a digit and a word."""
    return lambda text: all(test(text) for test in tests)


_DIGIT = re.compile("[0-9]").search
_BRACKETED_WORD = re.compile(_BRACKETED(f"(?:{_SPELLED_AT}|{_SPELLED_DOT})"), re.IGNORECASE).search
_SPACED_AT = _holds(*(f" {at} " for at in _AT_WORDS), any_case=True)
_SPACED_DOT = _holds(*(f" {dot} " for dot in _DOT_WORDS), any_case=True)


def _may_spell_an_email(text: str) -> object:
    """An "@", a bracketed "at" or "dot", or both words between spaces: what a ``_SPELLED_EMAIL``
    match holds."""
    return "@" in text or _BRACKETED_WORD(text) or (_SPACED_AT(text) and _SPACED_DOT(text))


# A value after a word that names a password or key follows ":", "=" or " - ", or holds a digit
# or symbol: a turn with none of them has none.
_KEY_VALUE_MARK = re.compile(r"[0-9:=@#$%^&*_+~<>-]").search

_PASSES: tuple[
    tuple[Callable[[str], object] | None, re.Pattern[str], Callable[[str], Iterator[Span]]], ...
] = (
    (_holds("eyJ"), _JWT, _matches(_JWT, "<SECRET>")),
    (None, _SECRET, _matches(_SECRET, "<SECRET>")),
    (_holds("://"), _CREDENTIALS, _matches(_CREDENTIALS, "<SECRET>", group="credentials")),
    (_holds("@"), _EMAIL, _matches(_EMAIL, "<EMAIL>")),
    (_may_spell_an_email, _SPELLED_EMAIL, _matches(_SPELLED_EMAIL, "<EMAIL>")),
    (re.compile(r"/|www\.", re.ASCII | re.IGNORECASE).search, _URL, _matches(_URL, "<URL>")),
    (_DIGIT, _IBAN_RUN, _windows(_IBAN_RUN, _is_iban, _IBAN_MAX_LEN, "<IBAN>")),
    (
        _DIGIT,
        _CARD_RUN,
        _past_kept_numbers(_windows(_CARD_RUN, _is_card, _CARD_MAX_LEN, "<CARD>")),
    ),
    (_DIGIT, _SSN, _matches(_SSN, "<SSN>")),
    (None, _MAC, _matches(_MAC, "<MAC>")),
    (_holds(":"), _IPV6, _matches(_IPV6, "<IP>", _is_ipv6)),
    (_DIGIT, _IPV4, _matches(_IPV4, "<IP>")),
    (_DIGIT, _PHONE_RUN, _past_kept_numbers(_national_phones)),
    (_DIGIT, _PHONE, _matches(_PHONE, "<PHONE>", _has_phone_length)),
    (_both(_DIGIT, _holds(*_CODE_STEMS, any_case=True)), _CODE, _codes),
    (
        _both(_KEY_VALUE_MARK, _holds(*_KEY_STEMS, any_case=True)),
        _KEY_VALUE,
        _matches(_KEY_VALUE, "<SECRET>", group="value"),
    ),
    (_DIGIT, _TOKEN, _matches(_TOKEN, "<SECRET>", _is_random)),
)
"""Each pass: a quick test that the text may hold what it masks (a chat turn rarely has a digit,
an "@", a ":" or a word that names a secret, so most passes are skipped by a search or a few),
its pattern, and the pass itself. A test draws strings from each pattern to hold the first part
true."""
