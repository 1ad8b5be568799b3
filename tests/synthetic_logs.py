"""Realistic prediction logs for the report's tests, its README examples and its benchmark.

A fleet of replicas, each writing its own day-files in the engine's line format, with a daily
traffic curve (quiet at night, busiest mid-afternoon UTC), cache hits, empty turns, a few
``classify_batch`` calls, and the emotion and confidence mix of a support chat. The fleet is
upgraded at 06:00 UTC on the last day: lines before it have no ``language`` (the older format),
lines from then on carry one (mostly English, null for empty turns). With
``incident=True`` the last day goes wrong the way a page at night looks:

- 14:10-15:40: the second replica's encoder fails, so its turns fall back to the regex lexicon
  (``encoder failed: RuntimeError``) and many are low-confidence;
- 14:00-17:00: users are angrier everywhere (anger and frustration up from about 21% to 37%);
- 18:20 onwards: the second replica stops writing, and the first, taking its traffic, gets slower.

``python tests/synthetic_logs.py DIR [--days N] [--turns-per-day N]`` writes them to DIR.
"""

import argparse
import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

REPLICAS = (("eu-1", "web-1"), ("eu-2", "web-2"))
"""(folder, host): the report names them eu-1/web-1 and eu-2/web-2."""
DAY = date(2026, 11, 27)
MODEL_VERSION = "9f33e774bfcd"

EMOTIONS = ("joy", "fear", "frustration", "sadness", "anger", "surprise", "disgust", "neutral")
_CALM_MIX = (0.13, 0.05, 0.15, 0.06, 0.06, 0.06, 0.04, 0.45)
_HEATED_MIX = (0.07, 0.05, 0.23, 0.05, 0.14, 0.04, 0.05, 0.37)

TEXTS = {
    "joy": ["thanks, that fixed it!", "perfect, works now 🎉", "you're a lifesaver, thank you"],
    "fear": ["I'm worried my card was charged twice", "is my account safe? I got an odd e-mail"],
    "frustration": [
        "still waiting on order #48213, it's been a week",
        "the app logged me out AGAIN",
        "ugh, the reset link <URL> does not work",
    ],
    "sadness": ["my parcel with my dad's gift never came", "sad to cancel, but I have to"],
    "anger": [
        "this is unacceptable, I want a refund NOW",
        "third time I explain this, fix it!!",
        "you people charged <CARD> without asking",
    ],
    "surprise": ["wait, the refund already went through?", "oh, I didn't know you shipped there"],
    "disgust": ["the food arrived covered in mould, gross", "that reply was insulting"],
    "neutral": [
        "where is my order?",
        "can you change my address to 12 Elm Street?",
        "my e-mail is <EMAIL>, please update it",
        "what are your opening hours on Sunday",
    ],
}
"""Turns as the log keeps them: redacted, then cut to 50 characters."""
_TEXTS = {e: [json.dumps(t[:50], ensure_ascii=False) for t in ts] for e, ts in TEXTS.items()}

LANGUAGES = ("en",) * 14 + ("de", "de", "fr", "fr", "es", "nl")
"""A turn's language, one slot of twenty each (the texts are English whatever the line says)."""
UPGRADED = 6 * 60
"""Minute of the last day (UTC) from which lines carry ``language``."""

INCIDENT_FAILING = (14 * 60 + 10, 15 * 60 + 40)
INCIDENT_ANGRY = (14 * 60, 17 * 60)
INCIDENT_QUIET = 18 * 60 + 20
"""Minutes of the last day (UTC) at which each part of the incident starts (and ends)."""


def _minute_weights() -> np.ndarray:
    """Share of a day's traffic in each minute: a quarter of the peak at 03:00, peak at 15:00."""
    minutes = np.arange(24 * 60)
    shape = 0.25 + 0.75 * (1 + np.cos(2 * math.pi * (minutes - 15 * 60) / (24 * 60))) / 2
    weights: np.ndarray = shape / shape.sum()
    return weights


def _day_lines(
    rng: np.random.Generator, day: date, replica: int, turns: int, incident: bool, last: bool
) -> list[str]:
    """One replica's lines for one day, in time order; ``last``: the last day, the upgrade's."""
    per_minute = rng.poisson(_minute_weights() * turns)
    minute = np.repeat(np.arange(24 * 60), per_minute)
    n = len(minute)
    seconds = np.sort(minute * 60 + rng.uniform(0, 60, n))
    minute = (seconds // 60).astype(int)

    angry = incident & (minute >= INCIDENT_ANGRY[0]) & (minute < INCIDENT_ANGRY[1])
    calm_pick = rng.choice(8, n, p=_CALM_MIX)
    heated_pick = rng.choice(8, n, p=_HEATED_MIX)
    emotion = np.where(angry, heated_pick, calm_pick)
    confidence = np.clip(rng.beta(6, 2.2, n), 0.16, 0.999)
    latency = rng.lognormal(math.log(6.3), 0.22, n)
    if incident and replica == 0:  # it takes the quiet replica's traffic
        latency *= np.where(minute >= INCIDENT_QUIET, 2.4, 1.0)
    cache = rng.random(n) < 0.18
    latency = np.where(cache, rng.uniform(0.009, 0.02, n), latency)
    batch = np.where(rng.random(n) < 0.03, 8, 1)
    latency = np.where(batch > 1, latency / 3.1, latency)  # a batch's mean time per turn
    empty = rng.random(n) < 0.015
    failing = (
        incident
        & (replica == 1)
        & (minute >= INCIDENT_FAILING[0])
        & (minute < INCIDENT_FAILING[1])
        & ~empty
    )
    keep = ~(incident & (replica == 1) & (minute >= INCIDENT_QUIET))
    regex_confidence = np.clip(rng.normal(0.42, 0.12, n), 0.14, 0.95)
    text_pick = rng.integers(0, 1 << 30, n)

    lines = []
    for i in np.flatnonzero(keep):
        when = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds[i])
        stamp = when.isoformat(timespec="microseconds").replace("+00:00", "Z")
        label = EMOTIONS[emotion[i]]
        conf, route, reason, ms, hit = (
            float(confidence[i]),
            "linear_head",
            None,
            latency[i],
            cache[i],
        )
        if empty[i]:
            label, conf, route, reason, ms, hit = (
                "neutral",
                0.5,
                "regex",
                "empty text",
                0.015,
                False,
            )
            text = '""'
        else:
            options = _TEXTS[label]
            text = options[text_pick[i] % len(options)]
        if failing[i]:
            route, reason, hit = "regex", "encoder failed: RuntimeError", False
            conf, ms = float(regex_confidence[i]), 0.05 + latency[i] / 100
        language = ""  # drawn from bits of text_pick that the text's choice does not read
        if last and minute[i] >= UPGRADED:
            code = None if empty[i] else LANGUAGES[(text_pick[i] >> 10) % len(LANGUAGES)]
            language = f',"language":{json.dumps(code)}'
        lines.append(
            f'{{"timestamp":"{stamp}","text":{text},"emotion":"{label}",'
            f'"confidence":{conf:.4f},"route":"{route}",'
            f'"fallback_reason":{json.dumps(reason)},"latency_ms":{ms:.4f},'
            f'"cache_hit":{"true" if hit else "false"},"low_confidence":'
            f'{"true" if conf < 0.4 else "false"},"model_version":"{MODEL_VERSION}",'
            f'"class_prior":"tempered","batch_size":{batch[i] if not empty[i] else 1}{language}}}\n'
        )
    return lines


def write_logs(
    root: Path,
    *,
    last_day: date = DAY,
    days: int = 1,
    turns_per_day: int = 40_000,
    incident: bool = True,
    seed: int = 0,
) -> list[Path]:
    """Write ``days`` days ending on ``last_day``, ``turns_per_day`` turns a day over the
    replicas; the incident (if any) is on the last day. Returns the files written."""
    rng = np.random.default_rng(seed)
    written = []
    for offset in range(days - 1, -1, -1):
        day = last_day - timedelta(days=offset)
        for replica, (folder, host) in enumerate(REPLICAS):
            path = root / folder / f"predictions_{day.isoformat()}_{host}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = _day_lines(
                rng,
                day,
                replica,
                turns_per_day // len(REPLICAS),
                incident and offset == 0,
                offset == 0,
            )
            path.write_text("".join(lines), encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--turns-per-day", type=int, default=40_000)
    parser.add_argument("--no-incident", dest="incident", action="store_false")
    args = parser.parse_args()
    files = write_logs(
        args.root, days=args.days, turns_per_day=args.turns_per_day, incident=args.incident
    )
    print(f"wrote {len(files)} files under {args.root}")
