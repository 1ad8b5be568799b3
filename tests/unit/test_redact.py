import json
import random
import re
import signal
import string
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from jeffrey_affect import AffectClassifier, AffectConfig, preprocess_light
from jeffrey_affect._log import PredictionLog
from jeffrey_affect._redact import _KEY_STEMS, _PASSES, _PHONE_REGIONS, MARGIN, redact
from tests.helpers import RaisingEncoder, made_result

DIGITS = string.digits
HEX = "0123456789abcdef"
ALNUM = string.ascii_letters + DIGITS
# Surrounding text that cannot glue onto PII: no digits and none of "@.:/+-".
AROUND = st.text(
    st.characters(categories=("L", "Zs", "So"), include_characters=",;!?"), max_size=30
)
# The zeros of scripts whose digits people type: ASCII, fullwidth, Arabic-Indic, Devanagari.
ZEROS = ("0", "\uff10", "\u0660", "\u0966")
NBSP, EN_DASH, NB_HYPHEN, EM_DASH = "\u00a0", "\u2013", "\u2011", "\u2014"


def script(text: str, zero: str) -> str:
    """``text`` with its ASCII digits written in the script whose zero is ``zero``."""
    return text.translate({ord(d): chr(ord(zero) + int(d)) for d in DIGITS})


JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

# Each case is (what the user typed, what the log may keep): every placeholder marks what must
# be masked, and everything else must survive exactly as written.
CASES = [
    # Known secret formats and JWTs.
    (
        "ugh, my key sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ stopped working",
        "ugh, my key <SECRET> stopped working",
    ),
    ("key sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe is dead", "key <SECRET> is dead"),
    (
        "token ghp_16C7e42F292c6912E7710c838347Ae178B4a leaked, I'm furious",
        "token <SECRET> leaked, I'm furious",
    ),
    ("AWS says AKIAIOSFODNN7EXAMPLE is invalid??", "AWS says <SECRET> is invalid??"),
    (
        "the bot token xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx got revoked",
        "the bot token <SECRET> got revoked",
    ),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc charged twice!", "stripe <SECRET> charged twice!"),
    ("maps key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY quota gone", "maps key <SECRET> quota gone"),
    ("glpat-Ab12Cd34Ef56Gh78Ij90 expired again", "<SECRET> expired again"),
    ("hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567 won't download", "<SECRET> won't download"),
    (f"login fails with {JWT}, why", "login fails with <SECRET>, why"),
    # Key/value pairs: only the value goes.
    ("password: hunter2 doesn't work", "password: <SECRET> doesn't work"),
    ("DB_PASSWORD=s3cr3t! in the .env file", "DB_PASSWORD=<SECRET> in the .env file"),
    ('{"api_key": "abc123 def456"} is what I sent', '{"api_key": <SECRET>} is what I sent'),
    ("my password is hunter2 and it still fails", "my password is <SECRET> and it still fails"),
    ("my PIN is 4821 and the card is blocked", "my PIN is <SECRET> and the card is blocked"),
    ("password: 4111 1111 1111 1111 lol", "password: <SECRET> lol"),
    ("my password is wrong again", "my password is wrong again"),
    ("the token expired, ugh", "the token expired, ugh"),
    ("I lost my boarding pass again", "I lost my boarding pass again"),
    # Long random tokens.
    ("sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 ?", "sha <SECRET> ?"),
    ("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here", "secret <SECRET> here"),
    ("reset id 123e4567-e89b-12d3-a456-426614174000 expired", "reset id <SECRET> expired"),
    (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi",
        "-----BEGIN RSA PRIVATE KEY-----\n<SECRET>",
    ),
    ("rename my_variable_name_2024 please", "rename my_variable_name_2024 please"),
    ("job build-2024-05-01-nightly failed", "job build-2024-05-01-nightly failed"),
    # E-mails and URLs, bare domains with a path included.
    ("mail bob.smith+tag@example.co.uk.", "mail <EMAIL>."),
    ("bob@www.example.com", "<EMAIL>"),
    ("write to bob\uff20example\uff0ecom now", "write to <EMAIL> now"),
    ("see https://example.com/a?b=1, then", "see <URL>, then"),
    ("WWW.Example.org/path!", "<URL>!"),
    ("https://bob@example.com/x", "<URL>"),
    (
        "the link example.com/reset?token=8f14e45fceea167a5a36dedd4bea2543 is dead",
        "the link <URL> is dead",
    ),
    ("go to shop.example.co.uk/account/orders and see", "go to <URL> and see"),
    ("user@localhost", "user@localhost"),
    ("example.com", "example.com"),
    # IBANs and payment cards, with any separator.
    ("pay GB82 WEST 1234 5698 7654 32 now", "pay <IBAN> now"),
    ("DE89370400440532013000", "<IBAN>"),
    ("IBAN GB82-WEST-1234-5698-7654-32 please refund", "IBAN <IBAN> please refund"),
    ("de89 3704 0044 0532 0130 00 is mine", "<IBAN> is mine"),
    ("GB00 WEST 1234 5698 7654 32", "GB00 WEST 1234 5698 7654 32"),  # wrong check digits
    ("card 4111 1111 1111 1111 exp", "card <CARD> exp"),
    ("4111-1111-1111-1111", "<CARD>"),
    ("card 4111.1111.1111.1111 declined", "card <CARD> declined"),
    (f"4111{EN_DASH}1111{EN_DASH}1111{EN_DASH}1111 again?!", "<CARD> again?!"),
    (f"4111{NBSP}1111{NBSP}1111{NBSP}1111", "<CARD>"),
    (script("card 4111 1111 1111 1111", "\uff10"), "card <CARD>"),
    ("amex 3782 822463 10005", "amex <CARD>"),
    ("378282246310005", "<CARD>"),
    ("order 2024 4111 1111 1111 1111", "order 2024 <CARD>"),
    ("4111 1111 1111 1111 2025 exp", "<CARD> 2025 exp"),
    ("order 4111111111111112", "order 4111111111111112"),  # 16 digits, fails Luhn
    ("4111 1111 1111 1112", "4111 1111 1111 1112"),
    # US social security numbers and MAC addresses.
    ("my SSN is 078-05-1126, is it exposed?", "my SSN is <SSN>, is it exposed?"),
    ("ssn 078 05 1126 please", "ssn <SSN> please"),
    (f"SSN 078{EN_DASH}05{EN_DASH}1126", "SSN <SSN>"),
    ("router 00:1A:2B:3C:4D:5E keeps dropping", "router <MAC> keeps dropping"),
    ("mac 00-1a-2b-3c-4d-5e.", "mac <MAC>."),
    ("switch port 001a.2b3c.4d5e flaps", "switch port <MAC> flaps"),
    # IP addresses.
    ("host 192.168.0.1.", "host <IP>."),
    ("v6 2001:db8::1 or ::1", "v6 <IP> or <IP>"),
    ("mapped ::ffff:192.0.2.1", "mapped <IP>"),
    ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full <IP>"),
    ("256.1.1.1", "256.1.1.1"),
    ("1.2.3.4.5", "1.2.3.4.5"),
    # Phones, international and in the national formats of the regions read.
    ("+44 20 7946 0958", "<PHONE>"),
    ("+1-202-555-0143", "<PHONE>"),
    ("+447911123456", "<PHONE>"),
    ("+33 6 12 34 56 78 (France)", "<PHONE> (France)"),
    ("call (202) 555-0143 today", "call <PHONE> today"),
    ("020 7946 0958", "<PHONE>"),
    ("ring 555-0143!", "ring <PHONE>!"),
    ("rappelez-moi au 06 12 34 56 78 svp", "rappelez-moi au <PHONE> svp"),
    (f"06{NBSP}12{NBSP}34{NBSP}56{NBSP}78 appelle", "<PHONE> appelle"),
    (
        f"caf\u00e9 {EM_DASH} 06 12 34 56 78 {EM_DASH} na\u00efve",
        f"caf\u00e9 {EM_DASH} <PHONE> {EM_DASH} na\u00efve",
    ),
    ("meu n\u00famero \u00e9 (11) 91234-5678, me liga", "meu n\u00famero \u00e9 <PHONE>, me liga"),
    ("Festnetz 030/1234567, Handy 0151 23456789", "Festnetz <PHONE>, Handy <PHONE>"),
    ("call me on 98765 43210 asap", "call me on <PHONE> asap"),
    ("text 2025550143 when you're here", "text <PHONE> when you're here"),
    ("202.555.0143", "<PHONE>"),
    (f"call 202{EN_DASH}555{EN_DASH}0143 now", "call <PHONE> now"),
    (script("tel 202-555-0143", "\uff10"), "tel <PHONE>"),
    (script("raqmi 0612345678", "\u0660"), "raqmi <PHONE>"),
    ("ring 07911 123456 after 6", "ring <PHONE> after 6"),
    ("mi m\u00f3vil es 612 345 678", "mi m\u00f3vil es <PHONE>"),
    ("chiamami al 347 123 4567", "chiamami al <PHONE>"),
    ("ll\u00e1mame al (55) 1234 5678", "ll\u00e1mame al <PHONE>"),
    ("mob 0412 345 678 cheers", "mob <PHONE> cheers"),
    ("a@b.io, 10.0.0.1, 555-0143", "<EMAIL>, <IP>, <PHONE>"),
    # Numbers that are not PII: counts, order numbers, dates, times, prices, versions.
    ("I waited 45 minutes and nobody answered", "I waited 45 minutes and nobody answered"),
    ("I waited 3 hours \U0001f600!!", "I waited 3 hours \U0001f600!!"),
    ("order #123456 still hasn't shipped", "order #123456 still hasn't shipped"),
    ("order 123456 arrived broken", "order 123456 arrived broken"),
    ("ticket 12345678 is still open", "ticket 12345678 is still open"),
    ("due 2024-05-01, it's 05/01/2024 now", "due 2024-05-01, it's 05/01/2024 now"),
    ("the meeting is 2024-05-01 10:30-11:45", "the meeting is 2024-05-01 10:30-11:45"),
    ("from 1999-2024", "from 1999-2024"),
    ("at 10:30 or 3:45pm, whatever", "at 10:30 or 3:45pm, whatever"),
    ("12:30:45", "12:30:45"),
    ("it cost $1,299.99 and broke", "it cost $1,299.99 and broke"),
    ("$50", "$50"),
    (
        "updated to version 2.3.1 and everything broke",
        "updated to version 2.3.1 and everything broke",
    ),
    ("pi is 3.14159265", "pi is 3.14159265"),
    ("the answer is 42", "the answer is 42"),
    ("room 1204, floor 3, 9/10 would not return", "room 1204, floor 3, 9/10 would not return"),
    (f"rated 4.5 out of 5 {EM_DASH} meh", f"rated 4.5 out of 5 {EM_DASH} meh"),
    (f"I'm 35, married {EN_DASH} 2 kids", f"I'm 35, married {EN_DASH} 2 kids"),
    ("ISBN 978-3-16-148410-0", "ISBN 978-3-16-148410-0"),
    ("call 911 now", "call 911 now"),
    ("9" * 25, "9" * 25),
    # Issue 24: dates, versions and timestamps are kept; a four-part version that is a valid
    # IPv4 address is masked as one unless written "v1.2.3.4".
    (
        "the deadline was 05.01.2024, nothing happened",
        "the deadline was 05.01.2024, nothing happened",
    ),
    ("since 21.08.2003 10:30 and 05-02-2033", "since 21.08.2003 10:30 and 05-02-2033"),
    ("Chrome 120.0.6099.109 crashes", "Chrome 120.0.6099.109 crashes"),
    ("on Chrome/115.0.5908.41 and 10.0.19045.3693", "on Chrome/115.0.5908.41 and 10.0.19045.3693"),
    ("timestamp 1736728418 in the log", "timestamp 1736728418 in the log"),
    ('"created_at": 1701964800', '"created_at": 1701964800'),
    ("version 1.2.3.4 broke it", "version <IP> broke it"),
    ("updated to v1.2.3.4", "updated to v1.2.3.4"),
    # Passwords after a word or label that names them, in any phrasing and eight languages.
    ("my password is: Blue#Horse42 please", "my password is: <SECRET> please"),
    ("the password for my account is Qw3rty!9 ok", "the password for my account is <SECRET> ok"),
    ("I changed my password to Falcon2024!! today", "I changed my password to <SECRET> today"),
    ("username jdoe password Kx7#mPq2", "username jdoe password <SECRET>"),
    ("pw: tr1ckyPass", "pw: <SECRET>"),
    ("password - Lamp0st&Rain", "password - <SECRET>"),
    ("my new password is now Winter2025!", "my new password is now <SECRET>"),
    ("Passwort: Sonnen4Blume", "Passwort: <SECRET>"),
    ("das Passwort für mein Konto lautet Baum$7788", "das Passwort für mein Konto lautet <SECRET>"),
    ("mot de passe : Chat-noir77", "mot de passe : <SECRET>"),
    ("le mot de passe de mon compte est Soleil#55", "le mot de passe de mon compte est <SECRET>"),
    ("mi contraseña es Gato#2024 y", "mi contraseña es <SECRET> y"),
    ("minha senha é Praia2020!", "minha senha é <SECRET>"),
    ("mijn wachtwoord is Zomer2019?", "mijn wachtwoord is <SECRET>"),
    ("мой пароль Зима2018!", "мой пароль <SECRET>"),  # noqa: RUF001
    ("пароль: Медведь", "пароль: <SECRET>"),
    ("la mia password è Roma1990!", "la mia password è <SECRET>"),
    ("I changed my password to something stronger", "I changed my password to something stronger"),
    ("season pass 2024 is sold out", "season pass 2024 is sold out"),
    ("the password expired 3 days ago", "the password expired 3 days ago"),
    (
        "my password reset link expired after 15 minutes",
        "my password reset link expired after 15 minutes",
    ),
    # Connection strings: the credentials go, the host stays.
    (
        "postgresql://admin:Sup3r@localhost:5432/app down",
        "postgresql://<SECRET>@localhost:5432/app down",
    ),
    ("redis://:R3disPw!x@cache:6379 refuses", "redis://<SECRET>@cache:6379 refuses"),
    (
        "mongodb+srv://app:Zq8p@c0.ab1cd.mongodb.net/prod",
        "mongodb+srv://<SECRET>@c0.ab1cd.mongodb.net/prod",
    ),
    ("mysql://root:p@ss/w0rd@db/app", "mysql://<SECRET>@db/app"),
    ("postgresql://localhost:5432/app", "postgresql://localhost:5432/app"),
    # One-time, verification and 2FA codes, security codes and PINs, after a word naming them.
    ("the code is 482913 and it fails", "the code is <SECRET> and it fails"),
    ("the code 482913 doesn't work", "the code <SECRET> doesn't work"),
    ("verification code: 771 204", "verification code: <SECRET>"),
    ("OTP 560917", "OTP <SECRET>"),
    ("2FA code 118834 expired", "2FA code <SECRET> expired"),
    ("Google says G-482913", "Google says G-482913"),
    ("card 4111 1111 1111 1111 exp 08/27 cvv 734", "card <CARD> exp 08/27 cvv <SECRET>"),
    ("security code 902", "security code <SECRET>"),
    ("my PIN number is 4821", "my PIN number is <SECRET>"),
    ("PIN-Code 7731, bitte", "PIN-Code <SECRET>, bitte"),
    ("Bestätigungscode 448120", "Bestätigungscode <SECRET>"),
    ("code de vérification : 562913", "code de vérification : <SECRET>"),
    ("código de verificación 339102", "código de verificación <SECRET>"),
    ("il codice è 448812", "il codice è <SECRET>"),
    ("код подтверждения: 903311", "код подтверждения: <SECRET>"),
    (
        "error code 404 again, error code: 0x80070005",
        "error code 404 again, error code: 0x80070005",
    ),
    ("status code 500, exit code 137", "status code 500, exit code 137"),
    ("the code has 3 bugs on line 42", "the code has 3 bugs on line 42"),
    ("zip code 90210, order code: 123456", "zip code 90210, order code: 123456"),
    # E-mails written to dodge filters.
    ("jo.doe at gmail dot com", "<EMAIL>"),
    ("write jo dot doe at gmail dot com", "write <EMAIL>"),
    ("ana[at]correo.es or jo @ gmail.com", "<EMAIL> or <EMAIL>"),
    ("Jo (AT) mail (DOT) example (DOT) org", "<EMAIL>"),
    ("jean arobase orange point fr", "<EMAIL>"),
    ("look at example.com at this point", "look at example.com at this point"),
    ("see you @ 5.30pm", "see you @ 5.30pm"),
    # Zero-width characters and combining marks are read through; cards by slashes, IBANs by dots.
    ("card 4111\u200d1111\u200d1111\u200d1111 now", "card <CARD> now"),
    ("".join(d + "\u0336" for d in "4111 1111 1111 1111"), "<CARD>"),
    ("call 202\u200b555\u200b0143", "call <PHONE>"),
    ("mail jo\u200d@exam\u00adple.com", "mail <EMAIL>"),
    ("pass\u200dword: hunter2", "pass\u200dword: <SECRET>"),
    ("\U0001f469\u200d\U0001f4bb e\u0301 \u200b", "\U0001f469\u200d\U0001f4bb e\u0301 \u200b"),
    ("4111/1111/1111/1111", "<CARD>"),
    ("DE89.3704.0044.0532.0130.00", "<IBAN>"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_masks_what_it_must_and_keeps_the_rest(text: str, expected: str) -> None:
    assert redact(text) == expected


def luhn_total(digits: str) -> int:
    return sum(sum(divmod(int(d) * (1 + i % 2), 10)) for i, d in enumerate(reversed(digits)))


@st.composite
def cards(draw: st.DrawFn) -> str:
    body = draw(st.text(DIGITS, min_size=12, max_size=18))
    number = body + str(-luhn_total(body + "0") % 10)
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    if len(groups[-1]) < 3:  # printed cards never end in a one- or two-digit group
        groups[-2:] = [groups[-2] + groups[-1]]
    separator = draw(st.sampled_from(["", " ", "-", ".", EN_DASH, NBSP]))
    return script(separator.join(groups), draw(st.sampled_from(ZEROS)))


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.text(string.ascii_uppercase, min_size=2, max_size=2))
    bban = draw(st.text(string.ascii_uppercase + DIGITS, min_size=11, max_size=30))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
    iban = f"{country}{check:02d}{bban}"
    separator = draw(st.sampled_from(["", " ", "-"]))
    return separator.join(iban[i : i + 4] for i in range(0, len(iban), 4))


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


INTERNATIONAL = st.builds(
    lambda cc, sep, groups: f"+{cc}{sep}{sep.join(groups)}",
    st.integers(1, 999),
    st.sampled_from([" ", "-", ".", EN_DASH]),
    st.lists(st.text(DIGITS, min_size=2, max_size=4), min_size=2, max_size=4),
).filter(lambda phone: 7 <= sum(c.isdigit() for c in phone) <= 15)
PHONES = st.one_of(
    INTERNATIONAL,
    st.builds("({}) {}-{}".format, digits(3), digits(3), digits(4)),
    st.builds("{}-{}-{}".format, digits(3), digits(3), digits(4)),
    st.builds("{}.{}.{}".format, digits(3), digits(3), digits(4)),
    st.builds("0{} {} {}".format, digits(2), digits(4), digits(4)),
    st.builds("{}-{}".format, digits(3), digits(4)),
)


@st.composite
def national_phones(draw: st.DrawFn) -> str:
    """A valid mobile or landline number of a region read, as that region prints it."""
    region = draw(st.sampled_from(_PHONE_REGIONS))
    kind = draw(st.sampled_from([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE]))
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    national = phonenumbers.national_significant_number(example)
    number = phonenumbers.parse(national[:-4] + draw(digits(4)), region)
    assume(phonenumbers.is_valid_number(number))
    printed = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    printed = printed.replace(" ", draw(st.sampled_from([" ", NBSP])))
    printed = printed.replace("-", draw(st.sampled_from(["-", EN_DASH, NB_HYPHEN])))
    return script(printed, draw(st.sampled_from(ZEROS)))


def leftover_digits(text: str) -> str:
    return re.sub(r"\D", "", text)  # every script's digits


@given(AROUND, cards(), AROUND, st.integers(0, 60))
def test_card_is_redacted_before_truncation(before: str, card: str, after: str, n: int) -> None:
    redacted = redact(f"{before} {card} {after}")
    assert card not in redacted
    assert leftover_digits(redacted[:n]) == ""


@given(AROUND, PHONES, AROUND, st.integers(0, 60))
def test_phone_is_redacted_before_truncation(before: str, phone: str, after: str, n: int) -> None:
    redacted = redact(f"{before} {phone} {after}")
    assert phone not in redacted
    # A long international number may be taken as a card, which can leave its country code.
    assert len(leftover_digits(redacted[:n])) <= 3


@given(AROUND, national_phones(), AROUND)
def test_national_phone_is_redacted(before: str, phone: str, after: str) -> None:
    redacted = redact(f"{before} {phone} {after}")
    assert leftover_digits(redacted) == ""
    assert redacted.startswith(before) and redacted.endswith(after)


@given(AROUND, ibans(), AROUND)
def test_iban_is_redacted(before: str, iban: str, after: str) -> None:
    redacted = redact(f"{before} {iban} {after}")
    assert iban not in redacted
    assert leftover_digits(redacted) == ""


@given(AROUND, st.emails() | st.ip_addresses().map(str), AROUND)
def test_email_and_ip_are_redacted(before: str, pii: str, after: str) -> None:
    assert pii not in redact(f"{before} {pii} {after}")


# Zero-width characters, the soft hyphen, combining marks and an emoji variation selector.
IGNORABLE = st.sampled_from(
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u0336", "\u0301", "\ufe0f"]
)


def ignorable(text: str) -> bool:
    return unicodedata.category(text) in ("Cf", "Mn", "Me")


@st.composite
def broken_up(draw: st.DrawFn, pii: st.SearchStrategy[str]) -> tuple[str, str]:
    """A PII value, and the same with invisible characters put anywhere inside it."""
    value = draw(pii)
    marks = draw(st.lists(st.tuples(st.integers(1, len(value)), IGNORABLE), max_size=len(value)))
    broken = value
    for at, mark in sorted(marks, reverse=True):
        broken = broken[:at] + mark + broken[at:]
    return value, broken


@given(AROUND, broken_up(cards() | national_phones() | PHONES), AROUND)
def test_invisible_characters_do_not_hide_a_card_or_phone(
    before: str, pii: tuple[str, str], after: str
) -> None:
    redacted = redact(f"{before} {pii[1]} {after}")
    assert len(leftover_digits(redacted)) <= 3  # as for phones: a country code may be left


@given(AROUND, broken_up(st.emails()), AROUND)
def test_invisible_characters_do_not_hide_an_email(
    before: str, pii: tuple[str, str], after: str
) -> None:
    redacted = redact(f"{before} {pii[1]} {after}")
    assert pii[0] not in "".join(c for c in redacted if not ignorable(c))


DATES = st.builds(
    lambda day, form: day.strftime(form),
    st.dates(date(1900, 1, 1), date(2099, 12, 31)),  # the years the date rule reads
    st.sampled_from(["%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y-%m-%d", "%Y.%m.%d"]),
)
VERSIONS = st.builds(
    "{} {}.{}.{}.{}".format,
    st.sampled_from(["Chrome", "Edge", "Windows", "build", "Chrome/"]),
    st.integers(1, 200),
    st.integers(0, 9),
    st.integers(256, 99999),  # all four parts up to 255 make an IPv4 address, masked as one
    st.integers(0, 9999),
)
TIMESTAMPS = st.builds(
    "{}{}{}".format,
    st.sampled_from(["timestamp ", "epoch: ", "unix time ", '"created_at": ', "ts=", "ts "]),
    st.integers(10**9, 2 * 10**9 - 1),
    st.sampled_from(["", "123"]),
)


@given(AROUND, DATES | VERSIONS | TIMESTAMPS, st.sampled_from(["", " 10:30", ", 3:45pm"]), AROUND)
def test_dates_versions_and_timestamps_are_kept(
    before: str, kept: str, time: str, after: str
) -> None:
    text = f"{before} {kept}{time} {after}"
    assert redact(text) == text


def token(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


SECRETS = st.one_of(
    st.builds("sk-proj-{}".format, token(ALNUM + "_-", 48)),
    st.builds("sk-ant-api03-{}".format, token(ALNUM + "_-", 40)),
    st.builds(
        "{}_{}_{}".format,
        st.sampled_from(["sk", "pk", "rk"]),
        st.sampled_from(["live", "test"]),
        token(ALNUM, 24),
    ),
    st.builds(
        "{}_{}".format, st.sampled_from(["ghp", "gho", "ghu", "ghs", "ghr"]), token(ALNUM, 36)
    ),
    st.builds("github_pat_{}".format, token(ALNUM + "_", 82)),
    st.builds("glpat-{}".format, token(ALNUM + "_-", 20)),
    st.builds("xoxb-{}-{}-{}".format, digits(12), digits(13), token(ALNUM, 24)),
    st.builds("AKIA{}".format, token(string.ascii_uppercase + DIGITS, 16)),
    st.builds("AIza{}".format, token(ALNUM + "_-", 35)),
    st.builds("hf_{}".format, token(ALNUM, 34)),
    st.builds("npm_{}".format, token(ALNUM, 36)),
    st.builds("SG.{}.{}".format, token(ALNUM + "_-", 22), token(ALNUM + "_-", 43)),
    st.builds(
        "eyJ{}.eyJ{}.{}".format,
        token(ALNUM + "_-", 33),
        token(ALNUM + "_-", 40),
        token(ALNUM + "_-", 43),
    ),
)


@given(AROUND, SECRETS, AROUND)
def test_secret_is_redacted(before: str, secret: str, after: str) -> None:
    assert redact(f"{before} {secret} {after}") == f"{before} <SECRET> {after}"


@given(AROUND, st.sampled_from(["password", "passwd", "API_KEY", "client_secret", "pin"]), AROUND)
def test_key_value_keeps_the_key_and_masks_the_value(before: str, key: str, after: str) -> None:
    redacted = redact(f"{before} {key}: hunter2! {after}")
    assert redacted == f"{before} {key}: <SECRET> {after}"


SSNS = st.builds(
    "{:03d}{sep}{:02d}{sep}{:04d}".format,
    st.integers(1, 899).filter(lambda area: area != 666),
    st.integers(1, 99),
    st.integers(1, 9999),
    sep=st.sampled_from(["-", " ", EN_DASH]),
)
MACS = st.builds(
    lambda octets, sep, upper: sep.join(f"{o:02X}" if upper else f"{o:02x}" for o in octets),
    st.lists(st.integers(0, 255), min_size=6, max_size=6),
    st.sampled_from([":", "-"]),
    st.booleans(),
)


def unlabelled(before: str) -> bool:
    """No word naming a secret ("token", "pin") comes first: after one, any value is <SECRET>."""
    return not any(stem in before.lower() for stem in _KEY_STEMS)


@given(AROUND.filter(unlabelled), SSNS, AROUND)
def test_ssn_is_redacted(before: str, ssn: str, after: str) -> None:
    assert redact(f"{before} {ssn} {after}") == f"{before} <SSN> {after}"


@given(AROUND.filter(unlabelled), MACS, AROUND)
def test_mac_is_redacted(before: str, mac: str, after: str) -> None:
    assert redact(f"{before} {mac} {after}") == f"{before} <MAC> {after}"


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("hex, 20", lambda rng: rng.randbytes(10).hex()),
        ("hex, 32", lambda rng: rng.randbytes(16).hex()),
        ("hex, 64", lambda rng: rng.randbytes(32).hex()),
        ("base62, 32", lambda rng: "".join(rng.choices(ALNUM, k=32))),
        ("base64url, 43", lambda rng: "".join(rng.choices(ALNUM + "_-", k=43))),
    ],
)
def test_random_tokens_are_masked(kind: str, make: Callable[[random.Random], str]) -> None:
    """Random tokens are told from words by how often they switch between lower case, upper
    case and digits, which chance can keep low: at most 2 in 100 may be kept."""
    rng = random.Random(kind)
    tokens = [make(rng) for _ in range(1000)]
    kept = [t for t in tokens if redact(f"id {t} ok") != "id <SECRET> ok"]
    assert len(kept) <= 20, kept[:5]


# Text that no rule can read as PII: no digits in any script, and none of "@:." however written.
PLAIN = st.characters(exclude_categories=("Nd", "No")).filter(
    lambda c: not set(unicodedata.normalize("NFKC", c)) & set(DIGITS + "@:.")
)


@given(st.text(PLAIN))
def test_text_without_pii_characters_is_unchanged(text: str) -> None:
    assert redact(text) == text


@given(st.text(st.sampled_from("0123456789 .-:@+()/abcfAB<>\u2013\uff10") | st.characters()))
def test_never_raises(text: str) -> None:
    assert isinstance(redact(text), str)


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: catastrophic backtracking takes far longer than ``seconds``."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"redact took over {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[
            (hostile, hostile)
            for hostile in [
                "1." * 5000,
                "@" * 10000,
                "1@" * 5000,
                ".@1" * 3334,
                "9" * 10000,
                "111 " * 2500,
                "1:" * 5000,
                "1/" * 5000,
                "(1) " * 2500,
                "a." * 5000,
                "a-" * 5000,
                "aa:" * 3000,
                "eyJ" * 3000,
                "password is " * 800,
                "pw " * 3000 + "1",
                "code is 1 " * 1000,
                "verification code a a a a " * 400 + "1234",
                "a://" * 3000 + "@",
                "x at y dot " * 1000,
                "[at]" * 2500,
                "a @ " * 3000,
                "timestamp " * 1000 + "1",
                "\u200d" * 10000,
                "1\u0336" * 5000,
            ]
        ],
        ("1.1@" * 5000, "<EMAIL>@" * 2500),
        ("12.34@" * 5000, "<EMAIL>@" * 2500),
        ("a1" * 5000, "<SECRET>"),
        ("sk-" * 3000, "<SECRET>"),
        ("x.com/" * 1500, "<URL>"),
        ("password:" * 1000, "password:<SECRET>"),
    ],
    ids=lambda value: repr(value[:12]),
)
def test_hostile_input_finishes(text: str, expected: str) -> None:
    with deadline(60):
        assert redact(text) == expected


# (what the user typed, the part of it that must never be logged)
LEAKS = [
    ("sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXyZ"),
    ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    (JWT, JWT),
    ("password: hunter2", "hunter2"),
    ("4111 1111 1111 1111", "4111 1111 1111 1111"),
    ("GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
    ("078-05-1126", "078-05-1126"),
    ("06 12 34 56 78", "06 12 34 56 78"),
    ("bob.smith@example.com", "bob.smith@example.com"),
]


@pytest.mark.parametrize("at", [0, 20, 44])  # 44: across the default 50-character cut
def test_a_secret_in_a_turn_never_reaches_the_log_file(tmp_path: Path, at: int) -> None:
    with AffectClassifier(AffectConfig(log_dir=tmp_path), encoder=RaisingEncoder()) as clf:
        for typed, _ in LEAKS:
            clf.classify(("ugh " * 20)[:at] + typed + " and I'm done")
    logged = [
        json.loads(line)["text"]
        for path in tmp_path.glob("predictions_*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert len(logged) == len(LEAKS)
    for (_, secret), text in zip(LEAKS, logged, strict=True):
        assert not any(secret[i : i + 4] in text for i in range(len(secret) - 3)), text


RESULT = made_result("joy")
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


FILLER = " and then some more words about the order" * 30  # pushes the text past any window
STRADDLING = [
    "alice.smith+orders@example.co.uk",
    "https://shop.example.com/track?id=12345",
    "GB82 WEST 1234 5698 7654 32",
    "4111 1111 1111 1111",
    "2001:db8:85a3::8a2e:370:7334",
    "+44 20 7946 0958",
    "(202) 555-0143",
    "192.168.100.200",
]


def logged_text(log: PredictionLog, text: str) -> str:
    return str(json.loads(log.line(RESULT, text, NOW))["text"])


@pytest.mark.parametrize("before", ["my details: ", "x" * 18 + " "])
@pytest.mark.parametrize("pii", STRADDLING)
def test_pii_across_the_cut_is_redacted(tmp_path: Path, before: str, pii: str) -> None:
    text = before + pii + FILLER
    assert len(before) < 20 < len(before + pii)
    logged = logged_text(PredictionLog(tmp_path, text_chars=20), text)
    assert logged == redact(text)[:20]
    assert logged.startswith(before) and logged[len(before)] == "<"


WORDS = st.text(st.characters(categories=("L",)), min_size=1, max_size=12) | AROUND
LABELLED = st.builds(
    "{} {}".format,
    st.sampled_from(
        [
            "password:",
            "the password for my new work account is",
            "le mot de passe de mon compte est maintenant",
            "the verification code they sent me was",
            "code de vérification",
            "PIN",
        ]
    ),
    st.text(ALNUM + "!#", min_size=4, max_size=40),
)
SPELLED = st.builds(
    "{} {} {} {} {}".format,
    token(ALNUM, 30),
    st.sampled_from(["at", "[at]", "(arobase)"]),
    token(ALNUM, 30),
    st.sampled_from(["dot", "(punto)"]),
    st.text(string.ascii_letters, min_size=2, max_size=30),
)
CONNECTIONS = st.builds(
    "postgresql://{}:{}@db:5432/app".format, token(ALNUM, 40), token(ALNUM + "!@/", 55)
)
PII = cards() | ibans() | PHONES | st.emails() | st.ip_addresses().map(str)
PII |= LABELLED | SPELLED | CONNECTIONS
URLS = st.builds("https://{}/{}".format, st.from_regex(r"[a-z]{1,20}\.com", fullmatch=True), WORDS)


@settings(max_examples=300)
@given(
    parts=st.lists(WORDS | PII | URLS, max_size=120),
    chars=st.integers(min_value=0, max_value=120),
)
def test_the_logged_text_is_the_whole_texts_redaction_cut(parts: list[str], chars: int) -> None:
    """Redacting a window never logs what redacting the whole text would hide, nor misplaces it.

    Only when replacements shorten the window by more than MARGIN is the logged text shorter.
    The text is taken as ``classify`` hands it over, normalised.
    """
    text = preprocess_light(" ".join(parts))
    with tempfile.TemporaryDirectory() as tmp:
        logged = logged_text(PredictionLog(Path(tmp), chars), text)
    whole = redact(text)[:chars]
    assert whole.startswith(logged)
    window = text[: chars + 2 * MARGIN]
    if len(window) - len(redact(window)) <= MARGIN:
        assert logged == whole


GUARDED = [(needs, pattern, find) for needs, pattern, find in _PASSES if needs is not None]


@pytest.mark.parametrize(
    ("needs", "pattern", "find"), GUARDED, ids=[p.pattern[:24] for _, p, _ in GUARDED]
)
@settings(max_examples=300)
@given(data=st.data())
def test_a_pass_is_skipped_only_on_text_it_would_not_change(
    needs: Callable[[str], object],
    pattern: re.Pattern[str],
    find: Callable[[str], Iterator[tuple[int, int, str]]],
    data: st.DataObject,
) -> None:
    """redact() skips a pass when ``needs`` is false: the pass must find nothing in such text."""
    text = data.draw(st.from_regex(pattern))
    assert needs(text) or list(find(text)) == [], f"{text!r} is masked without {needs}"
