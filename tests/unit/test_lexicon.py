import math
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jeffrey_affect._data import CHAT_TRAIN, HARD_TRAIN, read_turns
from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._lexicon import (
    _CUE_START,
    _CUES,
    _EDGE,
    _FOREIGN_CUES,
    _foreign_alternatives,
    _normalise,
    lexicon_scores,
)


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


FOREIGN_CASES: list[tuple[Emotion, str]] = [
    ("joy", "génial, merci beaucoup !"),
    ("joy", "je suis trop contente mdr"),
    ("frustration", "j'en ai marre, ça fonctionne toujours pas"),
    ("frustration", "je suis pas content du tout"),
    ("anger", "je suis furieux, c'est une arnaque"),
    ("sadness", "je suis triste, mon chat est décédé"),
    ("fear", "j'ai peur que mon compte ait été piraté"),
    ("disgust", "beurk, c'est dégueulasse"),
    ("surprise", "sans blague, je m'y attendais pas"),
    ("neutral", "d'accord, pas de souci"),
    ("anger", "ich bin so wütend, was für eine Abzocke"),
    ("frustration", "schon wieder? so ein Mist"),
    ("frustration", "ich bin nicht glücklich damit"),
    ("joy", "endlich! vielen Dank, das ist toll"),
    ("sadness", "tut mir leid, ich bin echt traurig"),
    ("fear", "ich habe Angst, mein Konto wurde gehackt"),
    ("disgust", "igitt, das ist ja ekelhaft"),
    ("surprise", "krass, damit hab ich nicht gerechnet"),
    ("neutral", "alles klar, passt"),
    ("joy", "jajaja qué bien, muchas gracias"),
    ("disgust", "qué asco, está podrido"),
    ("frustration", "estoy harto, sigue sin funcionar"),
    ("frustration", "no estoy feliz con el servicio"),
    ("anger", "estoy enojado, son unos ladrones"),
    ("sadness", "lo siento mucho, estoy muy triste"),
    ("fear", "tengo miedo, estoy muy preocupada"),
    ("surprise", "no me lo puedo creer, ¿en serio?"),
    ("neutral", "vale, de acuerdo"),
    ("disgust", "che schifo, non lo mangio"),
    ("frustration", "uffa, non funziona"),
    ("frustration", "non sono contento"),
    ("joy", "grazie mille, sono felice"),
    ("anger", "sono incazzato nero, che truffa"),
    ("sadness", "mi dispiace tanto, che peccato"),
    ("fear", "ho paura, sono preoccupata"),
    ("surprise", "non ci credo, davvero?"),
    ("neutral", "va bene, ricevuto"),
    ("joy", "kkkkkk adorei, valeu"),
    ("frustration", "que saco, não funciona"),
    ("frustration", "não gostei nada"),
    ("disgust", "que nojo, isso tá podre"),
    ("anger", "tô com raiva, que golpe"),
    ("sadness", "que pena, estou muito triste"),
    ("fear", "estou com medo, meu cartão foi hackeado"),
    ("surprise", "nossa, não acredito"),
    ("neutral", "tudo bem, combinado"),
    ("anger", "ik ben echt boos, wat een oplichters"),
    ("frustration", "zucht, het werkt alweer niet"),
    ("frustration", "ik ben niet blij met de service"),
    ("disgust", "gadverdamme, wat smerig"),
    ("joy", "dankjewel! echt geweldig"),
    ("sadness", "helaas, ik ben zo verdrietig"),
    ("fear", "ik ben bang dat mijn account gehackt is"),
    ("surprise", "wauw, dat had ik niet verwacht"),
    ("neutral", "prima, geen probleem"),
]


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@pytest.mark.parametrize(("label", "text"), FOREIGN_CASES)
def test_foreign_clear_cases_with_and_without_accents(label: Emotion, text: str) -> None:
    assert top(text) == label
    assert top(strip_accents(text)) == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("wütend", "anger"),
        ("wutend", "anger"),
        ("wuetend", "anger"),
        ("so glücklich", "joy"),
        ("so gluecklich", "joy"),
        ("scheiße", "frustration"),
        ("scheisse", "frustration"),
        ("j'ai hâte", "joy"),
        ("jai hate", "joy"),
        ("ça me saoule", "frustration"),
        ("pfffff", "frustration"),
        ("jajajajaja", "joy"),
        ("mdrrrr", "joy"),
        ("kkkkkkkk", "joy"),
        ("rsrsrs", "joy"),
        ("ptdr", "joy"),
        ("sto maleee", "sadness"),
    ],
)
def test_foreign_spellings_slang_and_stretches(text: str, label: Emotion) -> None:
    assert top(text) == label


@given(st.lists(st.sampled_from([text for _, text in FOREIGN_CASES]), min_size=1, max_size=4))
def test_stripping_accents_never_changes_the_scores(turns: list[str]) -> None:
    text = " ".join(turns)
    assert lexicon_scores(strip_accents(text)) == lexicon_scores(text)


FOREIGN_RE = re.compile(f"(?={_CUE_START}){_EDGE}(?:{_foreign_alternatives()}){_EDGE}")
"""The other languages' cues alone."""
LOANWORDS = {"merci", "gracias"}
"""Thanks that English turns of the chat set borrow: they vote joy there too."""


def test_no_foreign_cue_fires_on_english_turns() -> None:
    english = [text for path in (CHAT_TRAIN, HARD_TRAIN) for _, _, text in read_turns(path)]
    english += [
        "the death toll keeps rising",
        "I'm a content creator",
        "the mist over the lake",
        "a fatal error, non-stop crashes",
        "no more excuses",
        "big bang theory",
        "buff the nerf",
        "wut",
        "hate it",
    ]
    fired = {m.group() for text in english for m in FOREIGN_RE.finditer(_normalise(text))}
    assert fired <= LOANWORDS


@pytest.mark.parametrize("language", list(_FOREIGN_CUES))
def test_foreign_cues_begin_with_a_letter_and_have_no_bare_alternation(language: str) -> None:
    """_foreign_alternatives writes "a(?:sco|...)": the first character must stand alone."""
    assert list(_FOREIGN_CUES[language]) == list(_CUES)
    for patterns in _FOREIGN_CUES[language].values():
        for pattern in patterns:
            assert re.match(r"[a-z](?![?*+{])", pattern), pattern
            outside_groups = pattern
            while "(" in outside_groups:
                outside_groups = re.sub(r"\([^()]*\)", "", outside_groups)
            assert "|" not in outside_groups, pattern
