import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._lexicon import _CUE_START, _CUES, lexicon_scores


def top(text: str) -> Emotion:
    scores = lexicon_scores(text)
    return max(scores, key=scores.__getitem__)


CLEAR_CASES: list[tuple[Emotion, str]] = [
    ("joy", "Thank you so much, that fixed it!"),
    ("joy", "This is awesome, I love the new update"),
    ("joy", "yay it works now 🎉"),
    ("joy", "thx, you're a star :)"),
    ("sadness", "My dog passed away yesterday and I feel so down"),
    ("sadness", "I'm really sad that the shop is closing"),
    ("sadness", "sorry, my bad 😢"),
    ("sadness", "I lost my job today :("),
    ("anger", "I hate this stupid app"),
    ("anger", "wtf, you charged me twice"),
    ("anger", "This is unacceptable, I'm furious 😡"),
    ("anger", "what the hell is wrong with you people >:("),
    ("frustration", "ugh, the upload is not working again"),
    ("frustration", "This is so annoying, it keeps crashing"),
    ("frustration", "I've been waiting for hours and still no reply 🙄"),
    ("frustration", "seriously, a third time? this is ridiculous :/"),
    ("disgust", "eww that's disgusting"),
    ("disgust", "the food was gross and it made me sick 🤢"),
    ("disgust", "yuck, that smell is nasty"),
    ("fear", "I'm scared someone hacked my account"),
    ("fear", "I'm really worried about the surgery tomorrow"),
    ("fear", "I'm so nervous, I'm panicking 😰"),
    ("surprise", "wow, I didn't expect that"),
    ("surprise", "omg no way 😲"),
    ("surprise", "I can't believe it, I'm shocked"),
    ("surprise", "I'm confused, what do you mean?"),
    ("neutral", "Can you reset my password?"),
    ("neutral", "My order number is 12345."),
    ("neutral", "ok got it"),
    ("neutral", "What time do you open on Sundays?"),
]


@pytest.mark.parametrize(("label", "text"), CLEAR_CASES)
def test_clear_cases(label: Emotion, text: str) -> None:
    assert top(text) == label


def test_every_label_has_clear_cases() -> None:
    counts = {label: sum(lab == label for lab, _ in CLEAR_CASES) for label in EMOTIONS}
    assert min(counts.values()) >= 3


@pytest.mark.parametrize("text", ["", "   ", "\x00\x1b\n", "hello there", "1234 5678"])
def test_no_cues_means_modest_neutral(text: str) -> None:
    scores = lexicon_scores(text)
    assert top(text) == "neutral"
    assert scores["neutral"] < 0.6


def test_one_cue_is_modest_and_more_cues_raise_confidence() -> None:
    one = lexicon_scores("I'm happy")["joy"]
    three = lexicon_scores("I'm happy, thank you, this is great")["joy"]
    assert 0.3 < one < 0.6
    assert three > one


def test_mixed_cues_give_a_distribution() -> None:
    scores = lexicon_scores("I love the app but the login is broken")
    others = [v for k, v in scores.items() if k not in ("joy", "frustration")]
    assert scores["joy"] > max(others)
    assert scores["frustration"] > max(others)


@pytest.mark.parametrize(
    ("negated", "plain", "label"),
    [
        ("I'm not happy with this", "I'm happy with this", "joy"),
        ("I'm not very happy with the service", "I'm very happy with the service", "joy"),
        ("don't worry about it", "I worry about it", "fear"),
        ("I don't hate it", "I hate it", "anger"),
        ("I don't feel bad about it", "I feel bad about it", "sadness"),
    ],
)
def test_negated_cue_does_not_count(negated: str, plain: str, label: Emotion) -> None:
    assert top(plain) == label
    assert top(negated) != label


def test_not_bad_is_not_sadness_or_frustration() -> None:
    assert top("not bad at all") == "joy"
    assert top("this isn't bad") not in ("sadness", "frustration")


def test_negated_joy_reads_as_a_complaint() -> None:
    assert top("the answer was not helpful") == "frustration"


def test_negation_stops_at_the_clause_and_at_the_previous_cue() -> None:
    assert top("No, I'm happy with it") == "joy"
    assert top("It didn't crash, but I'm happy") == "joy"
    scores = lexicon_scores("I can't believe it worked")
    assert scores["joy"] > scores["frustration"]


def test_phrases_beat_their_words() -> None:
    assert top("no thanks") == "neutral"
    assert top("sorry to bother you") == "neutral"
    assert top("I can't wait") == "joy"


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("😀", "joy"),
        ("😂😂", "joy"),
        ("❤️", "joy"),
        ("😭", "sadness"),
        ("💔", "sadness"),
        ("🤬", "anger"),
        ("😱", "fear"),
        ("🤯", "surprise"),
        ("🤮", "disgust"),
        ("🙄", "frustration"),
        ("thanks👍", "joy"),
        (":D", "joy"),
        ("D:", "fear"),
        (":'(", "sadness"),
        (">:(", "anger"),
    ],
)
def test_emoji_and_emoticons(text: str, label: Emotion) -> None:
    assert top(text) == label


@pytest.mark.parametrize(
    "text", ["see http://example.com", "Mode:Dark", "I need a refund", "10:30"]
)
def test_no_cue_inside_words_or_urls(text: str) -> None:
    assert lexicon_scores(text) == lexicon_scores("")


def test_stretched_and_curly_spellings() -> None:
    assert top("soooo happyyyy") == "joy"
    assert top("uggghhh") == "frustration"
    assert top("it doesn\u2019t work") == "frustration"
    assert top("lmaooo") == "joy"


def test_shouting_leans_to_anger_when_negative_and_to_frustration_when_bare() -> None:
    assert top("THIS IS RIDICULOUS") == "anger"
    assert top("this is ridiculous") == "frustration"
    assert top("WHERE IS MY ORDER") == "frustration"
    assert top("OMG THANK YOU SO MUCH") != "anger"


def test_exclamations_raise_confidence() -> None:
    assert lexicon_scores("thanks!!!")["joy"] > lexicon_scores("thanks")["joy"]
    assert (
        lexicon_scores("this is annoying!!!")["frustration"]
        > lexicon_scores("this is annoying")["frustration"]
    )


def test_interrobang_is_surprise_alone_and_frustration_in_a_complaint() -> None:
    assert top("you did what?!") == "surprise"
    scores = lexicon_scores("why is it broken again?!")
    assert scores["frustration"] > lexicon_scores("why is it broken again")["frustration"]


def check_distribution(text: str) -> None:
    scores = lexicon_scores(text)
    assert list(scores) == list(EMOTIONS)
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert math.isclose(sum(scores.values()), 1.0, abs_tol=1e-9)


CUE_WORDS = ["happy", "not", "NOT", "hate", "😡", "!!!", "?!", "sooo", "can't", "wait", ":(", "ok"]
long_texts = st.builds(
    lambda chunk, times: (chunk * times)[:10_000],
    st.text(min_size=1, max_size=60),
    st.integers(min_value=1, max_value=10_000),
)


@given(st.one_of(st.text(), st.text(st.characters(categories=["Cc", "So"]))))
def test_any_text_gives_a_distribution(text: str) -> None:
    check_distribution(text)


@given(st.lists(st.sampled_from(CUE_WORDS), max_size=30).map(" ".join))
def test_cue_soup_gives_a_distribution(text: str) -> None:
    check_distribution(text)


@settings(max_examples=25)
@given(long_texts)
def test_long_text_gives_a_distribution(text: str) -> None:
    check_distribution(text)


@pytest.mark.parametrize("label", list(_CUES))
@settings(max_examples=300)
@given(data=st.data())
def test_every_cue_begins_where_the_search_looks(label: Emotion, data: st.DataObject) -> None:
    """The search skips positions whose character is outside _CUE_START: a cue that could begin
    elsewhere would never be found."""
    pattern = data.draw(st.sampled_from(_CUES[label]))
    cue = data.draw(st.from_regex(pattern, fullmatch=True))
    assert re.match(_CUE_START, cue), f"{pattern!r} can begin with {cue[:1]!r}"
