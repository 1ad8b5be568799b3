import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jeffrey_affect._redact import redact

DIGITS = string.digits
# Surrounding text that cannot glue onto PII: no digits and none of "@.:/+-".
AROUND = st.text(
    st.characters(categories=("L", "Zs", "So"), include_characters=",;!?"), max_size=30
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail bob.smith+tag@example.co.uk.", "mail <EMAIL>."),
        ("bob@www.example.com", "<EMAIL>"),
        ("see https://example.com/a?b=1, then", "see <URL>, then"),
        ("WWW.Example.org/path!", "<URL>!"),
        ("https://bob@example.com/x", "<URL>"),
        ("pay GB82 WEST 1234 5698 7654 32 now", "pay <IBAN> now"),
        ("DE89370400440532013000", "<IBAN>"),
        ("card 4111 1111 1111 1111 exp", "card <CARD> exp"),
        ("4111-1111-1111-1111", "<CARD>"),
        ("amex 3782 822463 10005", "amex <CARD>"),
        ("378282246310005", "<CARD>"),
        ("order 2024 4111 1111 1111 1111", "order 2024 <CARD>"),
        ("4111 1111 1111 1111 2025 exp", "<CARD> 2025 exp"),
        ("host 192.168.0.1.", "host <IP>."),
        ("v6 2001:db8::1 or ::1", "v6 <IP> or <IP>"),
        ("mapped ::ffff:192.0.2.1", "mapped <IP>"),
        ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full <IP>"),
        ("+44 20 7946 0958", "<PHONE>"),
        ("+1-202-555-0143", "<PHONE>"),
        ("+447911123456", "<PHONE>"),
        ("call (202) 555-0143 today", "call <PHONE> today"),
        ("020 7946 0958", "<PHONE>"),
        ("ring 555-0143!", "ring <PHONE>!"),
        ("a@b.io, 10.0.0.1, 555-0143", "<EMAIL>, <IP>, <PHONE>"),
    ],
)
def test_redacts_each_kind(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I waited 3 hours 😀!!",
        "version 2.0",
        "$50",
        "the answer is 42",
        "see you at 3:45pm",
        "due 2024-05-01",
        "from 1999-2024",
        "12:30:45",
        "pi is 3.14159265",
        "order 4111111111111112",  # 16 digits, fails Luhn
        "4111 1111 1111 1112",
        "9" * 25,
        "GB00 WEST 1234 5698 7654 32",  # wrong IBAN check digits
        "256.1.1.1",
        "1.2.3.4.5",
        "user@localhost",
        "example.com",
    ],
)
def test_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text


def luhn_total(digits: str) -> int:
    return sum(sum(divmod(int(d) * (1 + i % 2), 10)) for i, d in enumerate(reversed(digits)))


@st.composite
def cards(draw: st.DrawFn) -> str:
    body = draw(st.text(DIGITS, min_size=12, max_size=18))
    number = body + str(-luhn_total(body + "0") % 10)
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    if len(groups[-1]) < 3:  # printed cards never end in a one- or two-digit group
        groups[-2:] = [groups[-2] + groups[-1]]
    return draw(st.sampled_from(["", " ", "-"])).join(groups)


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.text(string.ascii_uppercase, min_size=2, max_size=2))
    bban = draw(st.text(string.ascii_uppercase + DIGITS, min_size=11, max_size=30))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
    iban = f"{country}{check:02d}{bban}"
    if draw(st.booleans()):
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


INTERNATIONAL = st.builds(
    lambda cc, sep, groups: f"+{cc}{sep}{sep.join(groups)}",
    st.integers(1, 999),
    st.sampled_from([" ", "-", "."]),
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


def leftover_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


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


@given(AROUND, ibans(), AROUND)
def test_iban_is_redacted(before: str, iban: str, after: str) -> None:
    redacted = redact(f"{before} {iban} {after}")
    assert iban not in redacted
    assert leftover_digits(redacted) == ""


@given(AROUND, st.emails() | st.ip_addresses().map(str), AROUND)
def test_email_and_ip_are_redacted(before: str, pii: str, after: str) -> None:
    assert pii not in redact(f"{before} {pii} {after}")


@given(st.text(st.characters(exclude_characters=DIGITS + "@:.")))
def test_text_without_pii_characters_is_unchanged(text: str) -> None:
    assert redact(text) == text


@given(st.text(st.sampled_from("0123456789 .-:@+()/abcfAB<>") | st.characters()))
def test_never_raises(text: str) -> None:
    assert isinstance(redact(text), str)


@pytest.mark.parametrize(
    "text",
    ["1." * 5000, "@" * 10000, "1@" * 5000, ".@1" * 3334, "9" * 10000, "111 " * 2500, "1:" * 5000],
)
def test_adversarial_input_finishes_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("part", ["1.1@", "12.34@"])
def test_adversarial_emails_finish(part: str) -> None:
    assert redact(part * 5000) == "<EMAIL>@" * 2500
