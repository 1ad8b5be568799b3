"""identify: supported turns keep their language, bare ones are undetermined, and other languages
are named, never passed off as supported. The turns are written for these tests."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jeffrey_affect._language import SUPPORTED_LANGUAGES, identify

SUPPORTED_TURNS = {
    "en": [
        "my order still hasn't shown up and nobody answers the phone",
        "thanks a lot, that fixed it right away",
        "why does the app log me out every single time?",
    ],
    "fr": [
        "ma commande n'est toujours pas arrivée, je commence à m'énerver",
        "merci beaucoup, vous m'avez vraiment aidé",
        "pourquoi l'appli plante dès que je l'ouvre ?",
    ],
    "de": [
        "meine Bestellung ist immer noch nicht da und keiner antwortet",
        "vielen Dank, das hat sofort geklappt",
        "warum stürzt die App jedes Mal ab?",
    ],
    "es": [
        "mi pedido todavía no ha llegado y nadie contesta",
        "muchas gracias, ya funciona todo",
        "¿por qué se cierra la aplicación cada vez que la abro?",
    ],
    "it": [
        "il mio ordine non è ancora arrivato e nessuno risponde",
        "grazie mille, adesso funziona tutto",
        "perché l'app si chiude ogni volta che la apro?",
    ],
    "pt": [
        "minha encomenda ainda não chegou e ninguém responde",
        "muito obrigado, agora está tudo funcionando",
        "por que o aplicativo fecha toda vez que eu abro?",
    ],
    "nl": [
        "mijn bestelling is nog steeds niet binnen en niemand neemt op",
        "heel erg bedankt, het werkt nu gewoon",
        "waarom crasht de app elke keer als ik hem open?",
    ],
}

UNDETERMINED = ["", " ", "ok", "mdr", "jajaja", "???", "😀", "😡😡😡", "thx", "12345", "ಠ_ಠ"]
UNDETERMINED += ["¯\\_(ツ)_/¯", "(ノಠ益ಠ)ノ彡┻━┻", "ᕕ( ᐛ )ᕗ"]  # kaomoji: letters, mostly symbols

UNSUPPORTED_TURNS = {
    "sw": [
        "Habari za asubuhi, naomba msaada na oda yangu",
        "Nimechoka kusubiri, huduma yenu ni mbaya sana",
        "Asante sana rafiki, umenisaidia kweli leo",
    ],
    "tl": [
        "Salamat po sa mabilis na tulong ninyo",
        "Bakit ang tagal ng padala ko? Naiinis na talaga ako",
        "Ang saya ko ngayon kasi dumating na yung order ko",
    ],
    "hu": [
        "Köszönöm szépen a gyors segítséget!",
        "Már harmadszor írok, és senki nem válaszol",
        "Nagyon dühös vagyok, a csomag megint nem jött meg",
    ],
    "ru": ["Почему мой заказ до сих пор не пришёл?"],
    "zh": ["我的订单怎么还没到 太让人生气了"],
}


def test_supported_languages_are_iso_639_1_english_first() -> None:
    assert SUPPORTED_LANGUAGES[0] == "en"
    assert all(len(code) == 2 and code.islower() for code in SUPPORTED_LANGUAGES)


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, turns in SUPPORTED_TURNS.items() for text in turns],
)
def test_a_supported_turn_gets_its_language(language: str, text: str) -> None:
    assert identify(text) == language


@pytest.mark.parametrize("text", UNDETERMINED)
def test_a_bare_turn_is_undetermined(text: str) -> None:
    assert identify(text) is None


@pytest.mark.parametrize(
    ("language", "text"),
    [(language, text) for language, turns in UNSUPPORTED_TURNS.items() for text in turns],
)
def test_an_unsupported_turn_is_named(language: str, text: str) -> None:
    assert identify(text) == language


def test_a_few_words_of_a_neighbour_are_not_enough_to_flag_a_turn() -> None:
    """Read alone, these lean to Afrikaans, Galician or Latin; one repeated word is one word."""
    assert identify("bäh bäh bäh") is None
    assert identify("Die is veilig terug.") in (None, "nl")


def test_a_mixed_turn_goes_to_the_language_with_most_words() -> None:
    assert identify("je suis trop content, le weekend était vraiment cool") == "fr"
    assert identify("I love this so much, merci beaucoup") == "en"


@settings(max_examples=100, deadline=None)
@example("\x00\x07\x1b[31m\u200b\ud800 \U0010ffff")
@example("Ω" * 10_000)
@given(st.text() | st.text(alphabet=st.characters(codec="utf-8"), min_size=1100, max_size=1500))
def test_identify_never_raises_and_returns_a_code_or_none(text: str) -> None:
    code = identify(text)
    assert code is None or (len(code) == 2 and code.isascii() and code.islower())
