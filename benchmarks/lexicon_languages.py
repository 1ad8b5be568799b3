"""The regex lexicon's cue words for French, German, Spanish, Italian, Portuguese and Dutch: how
often they fire on English turns, where they must not (the lexicon's scores feed the English head),
and how often the lexicon alone labels each language's chat turns right.

    python benchmarks/lexicon_languages.py [--goemotions DIR]

Prints its figures; "fires" means the text holds a cue of any language.
"""

import argparse
import re
from collections import Counter
from pathlib import Path

from jeffrey_affect._data import CHAT_TRAIN, HARD_TRAIN, read_turns
from jeffrey_affect._lexicon import (
    _CUE_RE,
    _CUE_START,
    _EDGE,
    _FOREIGN_CUES,
    _foreign_alternatives,
    _normalise,
    lexicon_scores,
)

ROOT = Path(__file__).resolve().parents[1]
FOREIGN_RE = re.compile(f"(?={_CUE_START}){_EDGE}(?:{_foreign_alternatives()}){_EDGE}")


def english_false_fires(name: str, texts: list[str]) -> None:
    hits = Counter(
        match.group() for text in texts for match in FOREIGN_RE.finditer(_normalise(text))
    )
    fired = sum(FOREIGN_RE.search(_normalise(text)) is not None for text in texts)
    share = 100 * fired / len(texts)
    print(f"{name}: a foreign cue fires on {fired} of {len(texts)} English texts ({share:.3f}%)")
    for cue, count in hits.most_common(10):
        print(f"    {count:4d}  {cue!r}")


def language_accuracy(language: str) -> None:
    turns = read_turns(ROOT / "models" / "data" / f"chat_train_{language}.tsv")
    right = fired = right_fired = 0
    for label, _, text in turns:
        scores = lexicon_scores(text)
        ok = max(scores, key=scores.__getitem__) == label
        fires = _CUE_RE.search(_normalise(text)) is not None
        right += ok
        fired += fires
        right_fired += ok and fires
    print(
        f"{language}: lexicon alone {right / len(turns):.1%} right of {len(turns)} turns;"
        f" fires on {fired / len(turns):.1%}, right on {right_fired / max(fired, 1):.1%} of those"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goemotions", type=Path, default=ROOT.parent / "shared" / "goemotions")
    args = parser.parse_args()
    english_false_fires("chat_train", [text for _, _, text in read_turns(CHAT_TRAIN)])
    english_false_fires("hard_train", [text for _, _, text in read_turns(HARD_TRAIN)])
    lines = (args.goemotions / "train.tsv").read_text(encoding="utf-8").splitlines()
    english_false_fires("GoEmotions train", [line.split("\t")[0] for line in lines])
    for language in _FOREIGN_CUES:
        language_accuracy(language)


if __name__ == "__main__":
    main()
