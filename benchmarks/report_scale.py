"""The monitoring report over a week of prediction logs: its time, and whether its memory grows
with the number of lines.

    python benchmarks/report_scale.py [--lines N] [--rounds R] [--output PATH]

Writes a week of synthetic logs from two replicas (``tests/synthetic_logs.py``) at N lines and at
N/10 over the same seven days, so both have the same time buckets and only the line count
differs, and the N-line week again as gzipped day-files. Each round runs ``jeffrey-affect
report``'s work (read, then render the text) on each in a fresh process, in a rotating order:
once timed, with its peak RSS (VmHWM) against its RSS before reading, and once under tracemalloc
for the Python heap's peak. Writes only its own section of RESULTS.md.
"""

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ray_scoring import replace_section

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## Report over a week of logs"
DAYS = 7

CHILD = """
import json, sys, time, tracemalloc
from pathlib import Path

from jeffrey_affect._render import render
from jeffrey_affect._report import build_report


def status(field):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(field + ":")) / 1024


traced = sys.argv[2] == "traced"
rss_before = status("VmRSS")
if traced:
    tracemalloc.start()
wall, cpu = time.perf_counter(), time.process_time()
report = build_report(Path(sys.argv[1]))
text = render(report, "text")
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1] / 1024**2 if traced else None
print(json.dumps({
    "lines": report.total, "wall_s": wall, "cpu_s": cpu, "rss_before_mb": rss_before,
    "hwm_mb": status("VmHWM"), "traced_peak_mb": peak, "chars": len(text),
}))
"""


def measure(logs: Path, traced: bool) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(logs), "traced" if traced else "timed"],
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def gzipped_copy(source: Path, target: Path) -> None:
    """The same day-files as the log's sweep leaves them: ``.jsonl.gz``."""
    for path in sorted(source.rglob("*.jsonl")):
        out = target / path.relative_to(source).with_suffix(".jsonl.gz")
        out.parent.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as plain, gzip.open(out, "wb", compresslevel=6) as packed:
            shutil.copyfileobj(plain, packed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.synthetic_logs import write_logs

    with tempfile.TemporaryDirectory() as tmp:
        sets = {
            "small": Path(tmp) / "small",
            "large": Path(tmp) / "large",
            "large.gz": Path(tmp) / "large-gz",
        }
        for name, lines in (("small", args.lines // 10), ("large", args.lines)):
            write_logs(sets[name], days=DAYS, turns_per_day=lines // DAYS)
        gzipped_copy(sets["large"], sets["large.gz"])
        size_mb = sum(p.stat().st_size for p in sets["large"].rglob("*")) / 1024**2
        gz_mb = sum(p.stat().st_size for p in sets["large.gz"].rglob("*")) / 1024**2
        load_before = os.getloadavg()[0]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sets}
        traced: dict[str, list[dict[str, Any]]] = {name: [] for name in sets}
        names = list(sets)
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                runs[name].append(measure(sets[name], traced=False))
                traced[name].append(measure(sets[name], traced=True))
        load_after = os.getloadavg()[0]

    def median(name: str, key: str, source: dict[str, list[dict[str, Any]]] = runs) -> float:
        return statistics.median(r[key] for r in source[name])

    def growth(name: str) -> float:
        return statistics.median(r["hwm_mb"] - r["rss_before_mb"] for r in runs[name])

    lines = {name: runs[name][0]["lines"] for name in sets}
    rows = [
        "| logs | lines | wall s (median) | CPU s | lines/s (wall) | peak RSS MB | RSS growth"
        " while reading, MB | tracemalloc peak MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in (
        ("small", f"{DAYS} days, 2 replicas"),
        ("large", f"{DAYS} days, 2 replicas"),
        ("large.gz", f"{DAYS} days, 2 replicas, gzipped"),
    ):
        rows.append(
            f"| {label} | {lines[name]:,} | {median(name, 'wall_s'):.2f} |"
            f" {median(name, 'cpu_s'):.2f} | {lines[name] / median(name, 'wall_s'):,.0f} |"
            f" {median(name, 'hwm_mb'):.0f} | {growth(name):.1f} |"
            f" {median(name, 'traced_peak_mb', traced):.2f} |"
        )
    heap_ratio = median("large", "traced_peak_mb", traced) / median(
        "small", "traced_peak_mb", traced
    )
    rss_ratio = growth("large") / growth("small")
    command = "python benchmarks/report_scale.py" + (
        f" --lines {args.lines}" if args.lines != 1_000_000 else ""
    )
    body = "\n".join(
        [
            HEADING,
            "",
            f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on this machine:"
            f" {os.cpu_count()} cores, shared with other work (1-minute load average"
            f" {load_before:.2f} before, {load_after:.2f} after).",
            "",
            f"- Logs: `tests/synthetic_logs.py`, {DAYS} days of two replicas (traffic curve,"
            " cache hits, empty turns, batched lines, the incident on the last day);"
            f" {size_mb:.0f} MB of JSONL at the larger size, {gz_mb:.1f} MB gzipped.",
            "- Each run: a fresh process reads every day-file (the default 6h buckets) and"
            " renders the text report; medians of"
            f" {args.rounds} rounds, the sets in a rotating order. Peak RSS is VmHWM; its growth"
            " is VmHWM less the RSS after imports, before reading. The tracemalloc peak is the"
            " Python heap's, from a second run of each.",
            "",
            *rows,
            "",
            f"Ten times the lines: tracemalloc peak x{heap_ratio:.2f}, RSS growth"
            f" x{rss_ratio:.2f} (memory does not grow with the lines; it grows with the time"
            " buckets and replicas, which are the same here).",
            "",
        ]
    )
    replace_section(args.output, body, HEADING)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
