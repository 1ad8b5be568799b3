"""Archive scoring throughput: Ray Data with 1 and 2 workers against ``classify_batch`` in one
process, as ratios measured in one run.

    python benchmarks/ray_scoring.py [--texts N] [--rounds R] [--output PATH]

Writes only its own section of RESULTS.md (``benchmarks/run.py`` keeps it when it rewrites the
rest). Each round runs the three engines back to back, in a rotating order, on the same texts;
a ratio is the median of the rounds' ratios, so load from other work hits both of its sides.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Archive scoring on Ray Data"
WORKERS = (1, 2)


def text_pool(data: Path, n: int) -> list[str]:
    from run import text_pool as pool  # benchmarks/run.py: the same shuffled GoEmotions turns

    return pool(data)[:n]


def in_process(texts: list[str]) -> float:
    """Texts per second: ``classify_batch`` over the slices the Ray workers score."""
    from jeffrey_affect.batch import BATCH_ROWS, archive_classifier

    clf = archive_classifier()
    clf.classify_batch(texts[:BATCH_ROWS])  # load and warm, as a Ray worker does before its rows
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH_ROWS):
        clf.classify_batch(texts[start : start + BATCH_ROWS])
    return len(texts) / (time.perf_counter() - started)


def on_ray(texts: list[str], workers: int) -> float:
    """Texts per second for the whole job, from submission to the last row, workers' start-up
    and model load included: what a user of ``score --engine ray`` waits for."""
    import ray

    from jeffrey_affect.batch import score_dataset

    ds = ray.data.from_items([{"text": t} for t in texts])
    started = time.perf_counter()
    rows = score_dataset(ds, workers=workers).materialize().count()
    assert rows == len(texts)
    return len(texts) / (time.perf_counter() - started)


def replace_section(path: Path, body: str, heading: str = HEADING) -> None:
    """Put ``body`` under ``heading`` in ``path``, in place of what was there, else at the end."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find(heading)
    if start < 0:
        text, rest = text.rstrip("\n") + "\n\n", ""
    else:
        end = text.find("\n## ", start + len(heading))
        text, rest = text[:start], "" if end < 0 else text[end + 1 :]
    path.write_text(text + body + ("\n" + rest if rest else ""), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "goemotions")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import ray

    from jeffrey_affect import AffectConfig

    texts = text_pool(args.data, args.texts)
    load_before = os.getloadavg()[0]
    # One logical CPU per worker and one for the tasks that cut the input into slices: Ray
    # schedules by these counts; the machine's cores are what the workers really share.
    ray.init(num_cpus=max(WORKERS) + 1, include_dashboard=False, log_to_driver=False)
    engines: list[tuple[str, Callable[[], float]]] = [
        ("in_process", lambda: in_process(texts)),
        *((f"ray_{w}", lambda w=w: on_ray(texts, w)) for w in WORKERS),  # type: ignore[misc]
    ]
    rates: dict[str, list[float]] = {name: [] for name, _ in engines}
    for r in range(args.rounds):
        for name, run in engines[r % len(engines) :] + engines[: r % len(engines)]:
            rates[name].append(run())
            print(f"round {r + 1}: {name} {rates[name][-1]:.0f} texts/s", flush=True)
    ray.shutdown()
    load_after = os.getloadavg()[0]

    def ratio(name: str) -> float:
        return statistics.median(
            a / b for a, b in zip(rates[name], rates["in_process"], strict=True)
        )

    command = " ".join(["python", *sys.argv])
    body = "\n".join(
        [
            HEADING,
            "",
            f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Ray"
            f" {version('ray')}, on this machine: {os.cpu_count()} cores, shared with other work"
            f" (1-minute load average {load_before:.2f} before, {load_after:.2f} after).",
            "",
            f"- {len(texts)} distinct GoEmotions turns, {args.rounds} rounds; the default encoder"
            f" ({AffectConfig().encoder_backend}), cache off, no prediction log (as `score` runs).",
            "- In process: `classify_batch` over the same 256-row slices, model loaded and warm.",
            "- Ray: a local cluster told of 3 CPUs (one per worker, one for slicing the input);"
            " the whole job, workers' start-up and model load included.",
            "",
            "| engine | texts/s (median) | / in process |",
            "|---|---|---|",
            f"| `classify_batch`, one process | {statistics.median(rates['in_process']):.0f} |"
            " 1.00 |",
            *(
                f"| Ray Data, {w} worker{'s' if w > 1 else ''} |"
                f" {statistics.median(rates[f'ray_{w}']):.0f} | {ratio(f'ray_{w}'):.2f} |"
                for w in WORKERS
            ),
            "",
            "Each round's ratio, in round order: "
            + "; ".join(
                f"{w} worker{'s' if w > 1 else ''} "
                + ", ".join(
                    f"{a / b:.2f}"
                    for a, b in zip(rates[f"ray_{w}"], rates["in_process"], strict=True)
                )
                for w in WORKERS
            )
            + ".",
            "",
        ]
    )
    replace_section(args.output, body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
