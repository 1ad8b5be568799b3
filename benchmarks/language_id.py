"""Speed of ``identify``, and with --accuracy the dev figures behind its thresholds.

    python benchmarks/language_id.py [--rounds R] [--accuracy] [--shared ../shared]

Speed: every chat turn of models/data, timed call by call after a warm-up, R rounds; the first call
(import and model load) and the memory it adds are taken in a fresh process that has already
imported jeffrey_affect, as the router's process will have. --accuracy prints the tables of
benchmarks/LANGUAGE_ID.md: supported turns from models/data, and unsupported ones from BRIGHTER's
train and dev splits and XED's projections (never a test split).
"""

import argparse
import csv
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from jeffrey_affect._data import read_turns
from jeffrey_affect._language import SUPPORTED_LANGUAGES, identify

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "models" / "data"
BUCKETS = ("1-2 words", "3-4 words", "5+ words")

# BRIGHTER's file names, and XED's where they are not ISO 639-1; None: no code, or not in the model.
BRIGHTER = {
    "afr": "af", "amh": "am", "arq": "ar", "ary": "ar", "chn": "zh", "hau": "ha", "hin": "hi",
    "ibo": "ig", "kin": "rw", "mar": "mr", "orm": "om", "pcm": None, "ron": "ro", "rus": "ru",
    "som": "so", "sun": None, "swa": "sw", "swe": "sv", "tat": "tt", "tir": None, "ukr": "uk",
    "vmw": None, "yor": "yo",
}  # fmt: skip
XED_CODES = {"cn": "zh", "tw": "zh", "br": "pt"}

FIRST_CALL = """
import os, time
def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
import jeffrey_affect
before, t0 = rss(), time.perf_counter()
from jeffrey_affect._language import identify
identify("Je suis vraiment déçu par votre service.")
print(time.perf_counter() - t0, rss() - before)
"""


def supported_turns() -> list[tuple[str, str]]:
    """(language, text) from models/data, each once."""
    turns = [("en", text) for _, _, text in read_turns(DATA / "chat_train.tsv")]
    for language in SUPPORTED_LANGUAGES[1:]:
        turns += [
            (language, text) for _, _, text in read_turns(DATA / f"chat_train_{language}.tsv")
        ]
    turns += [("en", text) for _, _, text in read_turns(DATA / "hard_train.tsv")]
    for line in (DATA / "hard_train_multilingual.tsv").read_text(encoding="utf-8").splitlines():
        if line:
            _, _, language, text = line.split("\t")
            turns.append((language, text))
    return list(dict.fromkeys((language, text.strip()) for language, text in turns))


def unsupported_turns(shared: Path) -> dict[str, list[tuple[str, str | None, str]]]:
    """Per source, (file's language, its ISO 639-1 code, text); train and dev splits only."""
    sources: dict[str, list[tuple[str, str | None, str]]] = {"BRIGHTER": [], "XED": []}
    for split in ("train", "dev"):
        for name, code in BRIGHTER.items():
            with (shared / "brighter" / split / f"{name}.csv").open(encoding="utf-8") as f:
                sources["BRIGHTER"] += [(name, code, row["text"]) for row in csv.DictReader(f)]
    for path in sorted((shared / "xed" / "projections").glob("*.tsv")):
        name = path.name.split("-")[0]
        code = XED_CODES.get(name, name)
        if code in SUPPORTED_LANGUAGES:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.rsplit("\t", 1)[0]
            if text.strip() and "xml.gz" not in text:  # a few lines are alignment records
                sources["XED"].append((name, code, text))
    return sources


def bucket(text: str) -> str:
    words = len(text.split())
    return BUCKETS[0] if words <= 2 else BUCKETS[1] if words <= 4 else BUCKETS[2]


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "-"


def supported_table(turns: list[tuple[str, str]]) -> None:
    """% correct / None / wrongly unsupported, per language and length bucket."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for language, text in turns:
        got = identify(text)
        outcome = (
            "correct" if got == language
            else "none" if got is None
            else "other supported" if got in SUPPORTED_LANGUAGES
            else "unsupported"
        )  # fmt: skip
        for key in (
            (language, bucket(text)),
            (language, "all"),
            ("all", bucket(text)),
            ("all", "all"),
        ):
            counts[key][outcome] += 1
    print(
        "| language | "
        + " | ".join(f"{b}: n, correct / None / unsupported %" for b in (*BUCKETS, "all"))
        + " |"
    )
    print("|---|" + "---|" * (len(BUCKETS) + 1))
    for language in (*SUPPORTED_LANGUAGES, "all"):
        cells = []
        for b in (*BUCKETS, "all"):
            c, n = counts[(language, b)], counts[(language, b)].total()
            cells.append(
                f"{n}: {pct(c['correct'], n)} / {pct(c['none'], n)} / {pct(c['unsupported'], n)}"
            )
        print(f"| {language} | " + " | ".join(cells) + " |")
    c = counts[("all", "all")]
    print(f"\nOther supported language: {pct(c['other supported'], c.total())} % of all.\n")


def unsupported_table(source: str, turns: list[tuple[str, str | None, str]]) -> None:
    """% named right / named any unsupported / None / called supported, per language."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for name, code, text in turns:
        got = identify(text)
        c = counts[name]
        c["n"] += 1
        c["right"] += got is not None and got == code
        c["unsupported"] += got is not None and got not in SUPPORTED_LANGUAGES
        c["none"] += got is None
        c["supported"] += got in SUPPORTED_LANGUAGES
    total: Counter[str] = Counter()
    print(f"| {source} | n | right code % | any unsupported % | None % | supported % |")
    print("|---|---|---|---|---|---|")
    for name, c in sorted(counts.items()):
        if name != "pcm":  # an English creole with no ISO 639-1 code: read as English by design
            total.update(c)
        print(
            f"| {name} | {c['n']} | {pct(c['right'], c['n'])} | {pct(c['unsupported'], c['n'])}"
            f" | {pct(c['none'], c['n'])} | {pct(c['supported'], c['n'])} |"
        )
    n, name = total["n"], "all but pcm" if "pcm" in counts else "all"
    print(
        f"| {name} | {n} | {pct(total['right'], n)} | {pct(total['unsupported'], n)}"
        f" | {pct(total['none'], n)} | {pct(total['supported'], n)} |\n"
    )


def speed(rounds: int) -> None:
    runs = [
        subprocess.run(
            [sys.executable, "-c", FIRST_CALL], cwd=ROOT, capture_output=True, text=True, check=True
        )
        for _ in range(3)
    ]
    first = sorted(tuple(map(float, run.stdout.split())) for run in runs)[1]
    texts = [text for _, text in supported_turns()]
    for text in texts[:200]:
        identify(text)
    times: list[float] = []
    short: list[float] = []
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            identify(text)
            elapsed = (time.perf_counter_ns() - t0) / 1000
            times.append(elapsed)
            if len(text.split()) <= 4:
                short.append(elapsed)
    times.sort()
    print(f"turns: {len(texts)} x {rounds} rounds")
    p95 = times[int(0.95 * len(times))]
    print(f"per turn, µs: median {statistics.median(times):.0f}, p95 {p95:.0f}")
    print(f"per turn of 1-4 words, µs: median {statistics.median(short):.0f}")
    print(f"first call (import + model load), s: {first[0]:.2f}; added RSS, MB: {first[1]:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    speed(args.rounds)
    if args.accuracy:
        print()
        supported_table(supported_turns())
        for source, turns in unsupported_turns(args.shared).items():
            unsupported_table(source, turns)


if __name__ == "__main__":
    main()
