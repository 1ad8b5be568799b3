"""Speed, memory and accuracy of the classifier on each encoder backend, measured in one run.

    python benchmarks/run.py [--quick] [--output PATH]

Each pair of timings that is compared (classifier vs raw encode, backend vs backend, redaction vs
normalisation: ``benchmarks/redaction.py``) is taken interleaved on the same texts, so machine
noise hits both sides alike. Cold start and peak RSS are
taken in fresh subprocesses, so this script's own bookkeeping does not count.

The backend table measures the English lane alone (``multilingual=False``), so that the backends'
figures hold no multilingual encoder; ``benchmarks/languages.py``'s section measures the default
config, languages and all.
"""

import argparse
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

from languages import HEADING as LANGUAGES_HEADING
from languages import section as languages_section
from redaction import HEADING as REDACTION_HEADING
from redaction import section as redaction_section
from sklearn.metrics import accuracy_score, f1_score

from jeffrey_affect import EMOTIONS, AffectClassifier, AffectConfig
from jeffrey_affect._config import Backend
from jeffrey_affect._data import load_chat_set, load_split
from jeffrey_affect._encoders.onnx import export_cache_dir
from jeffrey_affect._validate import default_chat_sets

ROOT = Path(__file__).resolve().parents[1]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx", "onnx-int8")
DEFAULT: Backend = AffectConfig.model_fields["encoder_backend"].default
T = TypeVar("T")
BLOCK = 20  # single turns per backend in turn
BATCH_BLOCK = 250  # texts per timed call in the batch rounds
HIT_TURN = (
    "I can't believe it finally worked on the first try, after three weeks of failed builds. "
    "Thank you!!!"
)
assert len(HIT_TURN) == 100  # the cache-hit turn
REFERENCE = (41.6, 80.4)  # the system we re-create: mean and P95 ms per prediction, 560M encoder

COLD_START = """
import sys, time
t0 = time.perf_counter()
from jeffrey_affect import AffectClassifier, AffectConfig
t1 = time.perf_counter()
config = AffectConfig(encoder_backend=sys.argv[1], multilingual=False, log_dir=sys.argv[2])
clf = AffectClassifier(config)
t2 = time.perf_counter()
clf.classify(sys.argv[3])
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""

# VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec, so a child would report
# this (large) parent's peak.
PEAK_RSS = """
import json, re, sys
from jeffrey_affect import AffectClassifier, AffectConfig
texts = json.load(sys.stdin)
config = AffectConfig(encoder_backend=sys.argv[1], multilingual=False, log_dir=sys.argv[2])
clf = AffectClassifier(config)
for text in texts[:200]:
    clf.classify(text)
clf.classify_batch(texts)
print(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
"""


@dataclass(frozen=True)
class Sizes:
    single: int  # distinct texts classified one at a time (cache misses)
    hits: int  # repeats of one cached text
    batch: int  # distinct texts per classify_batch round
    rounds: int
    children: int  # fresh processes per backend for the cold start
    f1_items: int | None  # GoEmotions test items scored; None: all of them


FULL = Sizes(single=400, hits=2000, batch=2000, rounds=5, children=3, f1_items=None)
QUICK = Sizes(single=60, hits=300, batch=500, rounds=1, children=1, f1_items=600)


@dataclass
class Row:
    """One backend's measurements."""

    raw_ms: list[float] = field(default_factory=list)
    miss_ms: list[float] = field(default_factory=list)
    hit_ms: list[float] = field(default_factory=list)
    raw_per_s: list[float] = field(default_factory=list)
    batch_per_s: list[float] = field(default_factory=list)
    cold_s: list[tuple[float, float, float, float]] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    macro_f1: float = 0.0
    chat_accuracy: dict[str, float] = field(default_factory=dict)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def rotate(items: tuple[T, ...], by: int) -> list[T]:
    by %= len(items)
    return list(items[by:] + items[:by])


def text_pool(data: Path) -> list[str]:
    """Distinct GoEmotions dev and train comments, shuffled: short, informal chat-like turns."""
    texts = [t for s in ("dev", "train") for t in load_split(data, s).texts if t]
    pool = list(dict.fromkeys(texts))
    random.Random(0).shuffle(pool)
    return pool


def raw_encode(clf: AffectClassifier, texts: list[str]) -> object:
    """The encoder call that the classifier wraps: sentence-transformers' own for torch; the
    tokenizer, ONNX Runtime session and numpy pooling for the others."""
    return clf.encoder.encode(texts)


def single_turns(
    clfs: dict[Backend, AffectClassifier], rows: dict[Backend, Row], texts: list[str]
) -> None:
    """Every text is new to every classifier.

    Backends take turns block by block: torch's and ONNX Runtime's thread pools spin after each
    call, and slow each other down if calls alternate one by one. Within a block the raw encode
    and the classifier alternate text by text, in alternating order.
    """
    before = {b: clf.stats() for b, clf in clfs.items()}
    for k in range(0, len(texts), BLOCK):
        for backend in rotate(BACKENDS, k // BLOCK):
            clf, row = clfs[backend], rows[backend]
            for i, text in enumerate(texts[k : k + BLOCK]):
                steps: list[tuple[list[float], Callable[[], object]]] = [
                    (row.raw_ms, partial(raw_encode, clf, [text])),
                    (row.miss_ms, partial(clf.classify, text)),
                ]
                for sink, step in steps if i % 2 else steps[::-1]:
                    sink.append(timed(step) * 1000)
    for backend, clf in clfs.items():
        stats, was = clf.stats(), before[backend]
        assert stats["cache_hits"] == was["cache_hits"], "a single-turn text was a cache hit"
        assert stats["routes"]["linear_head"] - was["routes"]["linear_head"] == len(texts)


def cache_hits(
    clfs: dict[Backend, AffectClassifier], rows: dict[Backend, Row], repeats: int
) -> None:
    for clf in clfs.values():
        clf.classify(HIT_TURN)
    before = {b: clf.stats()["cache_hits"] for b, clf in clfs.items()}
    for i in range(repeats):
        for backend in rotate(BACKENDS, i):
            rows[backend].hit_ms.append(timed(partial(clfs[backend].classify, HIT_TURN)) * 1000)
    for backend, clf in clfs.items():
        assert clf.stats()["cache_hits"] - before[backend] == repeats


def batches(
    clfs: dict[Backend, AffectClassifier], rows: dict[Backend, Row], rounds: list[list[str]]
) -> None:
    """Each round's texts go through the raw batched encode and ``classify_batch`` in blocks of
    BATCH_BLOCK, the two alternating block by block which goes first. This machine's speed drifts
    over a call of several seconds: with one call of 2,000 texts per side, rounds of the same code
    gave ratios from 0.80 to 1.25. Short alternating calls share the drift."""
    for r, texts in enumerate(rounds):
        for backend in rotate(BACKENDS, r):
            clf, spent = clfs[backend], [0.0, 0.0]
            for b, start in enumerate(range(0, len(texts), BATCH_BLOCK)):
                block = texts[start : start + BATCH_BLOCK]
                steps = [
                    (0, partial(raw_encode, clf, block)),
                    (1, partial(clf.classify_batch, block)),
                ]
                for side, step in steps if (r + b) % 2 else steps[::-1]:
                    gc.collect()
                    spent[side] += timed(step)
            rows[backend].raw_per_s.append(len(texts) / spent[0])
            rows[backend].batch_per_s.append(len(texts) / spent[1])


def quality(
    clfs: dict[Backend, AffectClassifier], rows: dict[Backend, Row], data: Path, n: int | None
) -> int:
    """Per backend: the router's macro-F1 on GoEmotions test under the training prior, and its
    accuracy on each chat set at the default prior."""
    test = load_split(data, "test")
    texts, labels = test.texts[:n], test.labels[:n]
    chat_sets = {path.name: load_chat_set(path) for path in default_chat_sets()}
    for backend, clf in clfs.items():
        config = AffectConfig(
            class_prior="train", log_enabled=False, encoder_backend=backend, multilingual=False
        )
        results = AffectClassifier(config, encoder=clf.encoder).classify_batch(texts)
        predicted = [EMOTIONS.index(r.emotion) for r in results]
        rows[backend].macro_f1 = float(f1_score(labels, predicted, average="macro"))
        config = AffectConfig(log_enabled=False, multilingual=False)
        default = AffectClassifier(config, encoder=clf.encoder)
        for name, chat in chat_sets.items():
            guessed = [EMOTIONS.index(r.emotion) for r in default.classify_batch(chat.texts)]
            rows[backend].chat_accuracy[name] = float(accuracy_score(chat.labels, guessed))
    return len(texts)


def child_env() -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "JEFFREY_AFFECT_ONNX_CACHE": str(export_cache_dir()),
    }


def cold_starts(rows: dict[Backend, Row], runs: int, log_dir: Path) -> None:
    for i in range(runs):
        for backend in rotate(BACKENDS, i):
            command = [sys.executable, "-c", COLD_START, backend, str(log_dir), HIT_TURN]
            started = time.perf_counter()
            out = subprocess.run(
                command, env=child_env(), capture_output=True, text=True, check=True
            )
            wall = time.perf_counter() - started
            imported, built, first = map(float, out.stdout.split())
            rows[backend].cold_s.append((imported, built, first, wall))


def peak_rss(rows: dict[Backend, Row], texts: list[str], log_dir: Path) -> None:
    for backend in BACKENDS:
        out = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, backend, str(log_dir)],
            input=json.dumps(texts),
            env=child_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        rows[backend].peak_rss_mb = int(out.stdout.split()[-1]) / 1024


def machine() -> list[tuple[str, str]]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import torch

    return [
        ("CPU", cpu),
        ("cores", f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable"),
        ("RAM", f"{ram_gib:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("torch", f"{torch.__version__} ({torch.get_num_threads()} intra-op threads)"),
        ("onnxruntime", version("onnxruntime")),
        ("sentence-transformers", version("sentence-transformers")),
        ("transformers", version("transformers")),
    ]


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def report(
    rows: dict[Backend, Row], command: str, facts: list[tuple[str, str]], notes: list[str]
) -> str:
    p50 = {b: statistics.median(r.miss_ms) for b, r in rows.items()}
    torch, default = rows["torch"], rows[DEFAULT]
    columns = [f"{b} (default)" if b == DEFAULT else b for b in BACKENDS]

    def stat(name: str, fn: Callable[[Row], str]) -> str:
        return f"| {name} | " + " | ".join(fn(rows[b]) for b in BACKENDS) + " |"

    def cold(r: Row, part: int) -> str:
        return fmt(statistics.median(c[part] for c in r.cold_s))

    chat_names = sorted(torch.chat_accuracy)
    table = [
        "| metric | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(BACKENDS),
        stat("raw `encode`, 1 text, p50 ms", lambda r: fmt(statistics.median(r.raw_ms))),
        stat("`classify` cache miss, p50 ms", lambda r: fmt(statistics.median(r.miss_ms))),
        stat("`classify` cache miss, mean ms", lambda r: fmt(statistics.mean(r.miss_ms))),
        stat("`classify` cache miss, p95 ms", lambda r: fmt(p95(r.miss_ms))),
        stat("miss p50 / raw encode p50", lambda r: fmt(ratio_miss(r), 3)),
        stat("miss p50 / torch's", lambda r: fmt(statistics.median(r.miss_ms) / p50["torch"], 3)),
        stat("`classify` cache hit, 100 chars, p50 ms", lambda r: fmt(hit_p50(r), 4)),
        stat("raw batched `encode`, texts/s", lambda r: fmt(statistics.median(r.raw_per_s), 0)),
        stat("`classify_batch`, texts/s", lambda r: fmt(statistics.median(r.batch_per_s), 0)),
        stat("batch / raw", lambda r: fmt(ratio_batch(r), 3)),
        stat("macro-F1, GoEmotions test (prior=train)", lambda r: fmt(r.macro_f1, 4)),
        *(
            stat(f"accuracy, {name}", lambda r, n=name: fmt(r.chat_accuracy[n], 4))  # type: ignore[misc]
            for name in chat_names
        ),
        stat("cold start: import, s", lambda r: cold(r, 0)),
        stat("cold start: construct, s", lambda r: cold(r, 1)),
        stat("cold start: first classify, s", lambda r: cold(r, 2)),
        stat("cold start: import + construct + first, s", lambda r: fmt(cold_total(r))),
        stat("cold start: process wall, s", lambda r: cold(r, 3)),
        stat("peak RSS, MB", lambda r: fmt(r.peak_rss_mb, 0)),
    ]

    quality_gaps = [abs(default.macro_f1 - torch.macro_f1)] + [
        abs(default.chat_accuracy[n] - torch.chat_accuracy[n]) for n in chat_names
    ]
    # (target, measured, limit, whether the limit is a floor)
    targets = [
        (f"default ({DEFAULT}) cache-miss p50 / torch's", p50[DEFAULT] / p50["torch"], 0.45, False),
        ("default cache-miss p50 / raw encoder p50", ratio_miss(default), 1.10, False),
        ("default cache-hit p50 ms, 100 characters, logging on", hit_p50(default), 0.08, False),
        ("default `classify_batch` / raw batched encode", ratio_batch(default), 0.95, True),
        ("default peak RSS MB after 2,000, English alone", default.peak_rss_mb, 350, False),
        ("default cold start s, export cached, English alone", cold_total(default), 1.5, False),
        ("torch cache-miss p50 / raw encode p50 (issue 9)", ratio_miss(torch), 1.15, False),
        ("default quality vs torch's, largest gap", max(quality_gaps), 0.01, False),
    ]
    rendered = [
        f"- {name}: {fmt(value, 3)} ({'>=' if floor else '<='} {limit}) "
        + ("met" if (value >= limit if floor else value <= limit) else "**MISSED**")
        for name, value, limit, floor in targets
    ]
    mean, tail = statistics.mean(default.miss_ms), p95(default.miss_ms)
    reference = [
        "| per prediction | mean ms | P95 ms | encoder |",
        "|---|---|---|---|",
        f"| the system we re-create | {REFERENCE[0]} | {REFERENCE[1]} | 560M parameters |",
        f"| jeffrey-affect, default backend, cache miss | {fmt(mean)} | {fmt(tail)} |"
        " all-MiniLM-L6-v2, 22M parameters |",
    ]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in facts),
        "",
        *notes,
        "",
        *table,
        "",
        "Against the system we re-create (its figures as it reported them, on its own machine):",
        "",
        *reference,
        "",
        "Targets:",
        "",
        *rendered,
        "",
    ]
    return "\n".join(lines)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def cold_total(r: Row) -> float:
    return statistics.median(c[0] + c[1] + c[2] for c in r.cold_s)


def ratio_miss(r: Row) -> float:
    return statistics.median(r.miss_ms) / statistics.median(r.raw_ms)


def ratio_batch(r: Row) -> float:
    """The median of each round's ratio: a round's two runs are adjacent, so they share the load."""
    return statistics.median(b / raw for b, raw in zip(r.batch_per_s, r.raw_per_s, strict=True))


def hit_p50(r: Row) -> float:
    return statistics.median(r.hit_ms)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, for a smoke run")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "goemotions")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    command = " ".join(["python", *sys.argv])
    load_before = os.getloadavg()

    pool = text_pool(args.data)
    single, rest = pool[: sizes.single], pool[sizes.single :]
    rounds = [rest[i * sizes.batch : (i + 1) * sizes.batch] for i in range(sizes.rounds)]
    rows = {b: Row() for b in BACKENDS}
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        print("loading the three backends (the first ONNX use exports into the cache)...")
        clfs = {
            b: AffectClassifier(
                AffectConfig(encoder_backend=b, multilingual=False, log_dir=logs / b)
            )
            for b in BACKENDS
        }
        warm = pool[-20:]
        for clf in clfs.values():
            clf.classify_batch(warm)
            for text in warm:
                raw_encode(clf, [text])
        print(f"single turns: {len(single)} cache misses per backend...")
        single_turns(clfs, rows, single)
        print(f"cache hits: {sizes.hits} per backend...")
        cache_hits(clfs, rows, sizes.hits)
        print(f"classify_batch: {sizes.rounds} x {sizes.batch} texts per backend...")
        batches(clfs, rows, rounds)
        print("macro-F1 on GoEmotions test...")
        scored = quality(clfs, rows, args.data, sizes.f1_items)
        del clfs
        gc.collect()
        print(f"cold start: {sizes.children} fresh processes per backend...")
        cold_starts(rows, sizes.children, logs / "cold")
        print("peak RSS: one fresh process per backend...")
        peak_rss(rows, rounds[0], logs / "rss")

    load_after = os.getloadavg()
    notes = [
        f"- Texts: distinct GoEmotions dev and train comments (short Reddit turns, {len(pool)} in"
        " all), shuffled with seed 0. Logging on, into a temporary directory, except for macro-F1."
        " The English lane alone (multilingual=False): the Languages section below measures the"
        " default config.",
        f"- Single turns: {len(single)} texts, each new to every classifier. Raw encode and"
        f" `classify` alternate text by text; backends take turns in blocks of {BLOCK} texts, as"
        " torch's and ONNX Runtime's spinning thread pools slow each other when calls alternate.",
        f"- Cache hits: one cached text, {sizes.hits} times per backend.",
        f"- Batches: {sizes.rounds} round(s) of {sizes.batch} texts new to the classifier, timed"
        f" in calls of {BATCH_BLOCK}: raw batched encode and `classify_batch` alternate call by"
        " call which goes first, as one call of 2,000 texts each spread a round's ratio from 0.80"
        " to 1.25; throughputs are medians, their ratio the median of the rounds' ratios.",
        f"- macro-F1: {scored} GoEmotions test items, training prior, logging off.",
        "- Cold start: fresh processes; the ONNX ones load an export already in the cache.",
        f"- Peak RSS: VmHWM of a fresh process that loads, classifies 200 texts one by one, then"
        f" {sizes.batch} as one batch (not ru_maxrss: Linux carries it over from the parent).",
        f"- 1-minute load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after; other"
        " work on this 2-core machine inflates and spreads the timings, torch's most.",
    ]
    text = report(rows, command, machine(), notes)
    text += "\n" + languages_section(args.quick, command)
    previous = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    for kept in previous.split("\n## ")[1:]:  # the other scripts' sections (Ray, report scale)
        if not f"## {kept}".startswith((LANGUAGES_HEADING, REDACTION_HEADING)):
            text += "\n## " + kept.rstrip("\n") + "\n"
    print("redaction: its cost per turn against the normalisation...")
    text += "\n" + redaction_section(21, command)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
