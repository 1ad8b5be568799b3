"""The ``jeffrey-affect`` command."""

import argparse
import codecs
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar, cast, get_args

from jeffrey_affect._artifacts import MULTILINGUAL_DIR
from jeffrey_affect._classifier import AffectClassifier
from jeffrey_affect._config import AffectConfig, NamedPrior
from jeffrey_affect._data import CHAT_TRAIN, HARD_TRAIN, checkout_root
from jeffrey_affect._labels import EMOTIONS
from jeffrey_affect._render import Format, plot, range_text, render
from jeffrey_affect._report import Limits, build_report, parse_bound, parse_range, parse_width
from jeffrey_affect._result import UNKNOWN_LANGUAGE
from jeffrey_affect.batch import Engine, score_file

T = TypeVar("T")

STDIN_BATCH = 256
"""The most lines of ``classify --stdin`` classified, printed and flushed together."""

STDIN_READ = 1 << 16
"""The most bytes of ``classify --stdin`` taken by one read: what is waiting, up to this."""

DEMO_TURNS = (
    "the app crashed again, I'm so done",
    "THANK YOU so much, it works perfectly now!! 🎉",
    "my biopsy results come tomorrow and I can't stop shaking",
    "wait, you're telling me the refund already went through?",
    "my dog died this morning",
    "this is a scam and you people are liars, I want my money back NOW",
    "ew, there was a hair baked into the bread",
    "can you change my delivery address to 12 Elm Street?",
    "perfect, another outage right before my presentation",
    "I'm not happy with how this was handled",
    "Je suis furieux, vous avez débité ma carte trois fois !",
    "Meine Oma ist letzte Nacht gestorben.",
    "¡Por fin llegó mi pedido, muchísimas gracias!",
    "",
)


def _classifier(**overrides: object) -> AffectClassifier:
    """Settings from the environment, with the command's own overrides on top."""
    settings = {k: v for k, v in overrides.items() if v is not None}
    return AffectClassifier(AffectConfig.model_validate(settings))


def _cmd_classify(args: argparse.Namespace) -> int:
    """Each batch is printed as soon as it is classified: any length, bounded memory."""
    if args.stdin == bool(args.texts):
        print("give TEXT arguments or --stdin, not both", file=sys.stderr)
        return 2
    clf = _classifier()
    for texts in _stdin_batches(sys.stdin) if args.stdin else [args.texts]:
        for result in clf.classify_batch(texts):
            print(result.model_dump_json())
        sys.stdout.flush()
    return 0


def _stdin_batches(stream: TextIO) -> Iterator[list[str]]:
    """The lines of ``stream`` (without their newline), in batches of those already waiting.

    Each read takes what the pipe or terminal holds and waits only when it holds nothing, so a
    line sent alone is answered (and logged with its own latency) before the next arrives, while
    a file goes through in batches of up to STDIN_BATCH, whose log lines say their latency is
    a batch mean.
    """
    source = cast(io.BufferedIOBase, stream.buffer)  # a BufferedReader, typed as BinaryIO
    decode = codecs.getincrementaldecoder(stream.encoding)(stream.errors or "strict").decode
    started: list[str] = []  # the pieces of a line that reads have cut
    while chunk := source.read1(STDIN_READ):
        *ended, rest = decode(chunk).split("\n")
        if ended:
            ended[0] = "".join([*started, ended[0]])
            started = []
            for start in range(0, len(ended), STDIN_BATCH):
                yield ended[start : start + STDIN_BATCH]
        started.append(rest)
    if last := "".join(started) + decode(b"", final=True):
        yield [last]


def _cmd_demo(args: argparse.Namespace) -> int:
    clf = _classifier(log_enabled=False)
    print(f"model {clf.model_version}, class prior {clf.class_prior}")
    for text in DEMO_TURNS:
        r = clf.classify(text)
        note = f"  ({r.fallback_reason})" if r.fallback_reason else ""
        language = r.language or UNKNOWN_LANGUAGE
        print(f"{r.emotion:<11} {r.confidence:5.2f}  {r.route:<11} {language:<7}  {text!r}{note}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from jeffrey_affect._train import train, train_multilingual

    config = AffectConfig(artifacts_dir=None)  # the encoder settings; --out may not exist yet
    manifest = train(
        args.data,
        args.out,
        xed=args.xed,
        chat=args.chat,
        hard=args.hard,
        adapter=args.adapter,
        encoder_model=config.encoder_model,
        encoder_prefix=config.encoder_prefix,
        cache_dir=args.cache_dir,
    )
    print(f"wrote {args.out} (config_hash {manifest.config_hash})")
    manifest = train_multilingual(args.out, brighter=args.brighter, cache_dir=args.cache_dir)
    print(f"wrote {args.out / MULTILINGUAL_DIR} (config_hash {manifest.config_hash})")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from jeffrey_affect._artifacts import ArtifactSource
    from jeffrey_affect._encoders.onnx import export

    config = AffectConfig()
    print(export(config.encoder_model, ArtifactSource.configured(config).verified_adapter()))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from jeffrey_affect._data import load_split
    from jeffrey_affect._eval import evaluate

    split = load_split(args.data, args.split)
    clf = _classifier(log_enabled=False, class_prior=args.class_prior)
    report = evaluate(clf, split.texts, split.labels, args.cache_dir)
    for figures in report.values():
        del figures["predicted"]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"GoEmotions {args.split}, n={len(split.texts)}, class prior {clf.class_prior}")
    print(f"{'route':<12} {'macro-F1':>8} {'accuracy':>8} {'ECE':>6}")
    for route, f in report.items():
        print(f"{route:<12} {f['macro_f1']:8.3f} {f['accuracy']:8.3f} {f['ece']:6.3f}")
    print("\nper-class F1")
    print(f"{'route':<12} " + " ".join(f"{e[:6]:>6}" for e in EMOTIONS))
    for route, f in report.items():
        print(f"{route:<12} " + " ".join(f"{f['per_class'][e]['f1']:6.3f}" for e in EMOTIONS))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from jeffrey_affect._validate import (
        checks_as_json,
        default_chat_sets,
        default_language_sets,
        default_meaning_sets,
        render_table,
        validate,
        write_report,
    )

    chat_sets = args.chat_set or default_chat_sets()  # before minutes of GoEmotions, not after
    checks, details = validate(
        args.data,
        args.artifacts,
        chat_sets=chat_sets,
        meaning_sets=[] if args.chat_set else default_meaning_sets(),
        language_sets=[] if args.chat_set else default_language_sets(),
        brighter=args.brighter,
        cache_dir=args.cache_dir,
    )
    report = write_report(checks, details, args.report_dir)
    if args.json:
        print(json.dumps({"checks": checks_as_json(checks), "report": str(report)}, indent=2))
    else:
        print(render_table(checks))
        print(f"\nreport: {report}")
    return 0 if all(c.passed for c in checks) else 1


_SCORE_EXTRAS = ("pyarrow", "ray")
"""The packages the parquet and ray extras install, which ``score`` imports on first use."""


def _cmd_score(args: argparse.Namespace) -> int:
    try:
        rows = score_file(
            args.input,
            args.output,
            text_column=args.text_column,
            engine=args.engine,
            address=args.address,
        )
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in _SCORE_EXTRAS:
            print(f"score: {exc}", file=sys.stderr)  # not a missing extra: say what it was
            return 1
        extra = "ray" if args.engine == "ray" else "parquet"
        print(f"score: needs {exc.name}: pip install 'jeffrey-affect[{extra}]'", file=sys.stderr)
        return 1
    except ValueError as exc:  # a missing text column, an input that already has our columns
        print(f"score: {exc}", file=sys.stderr)
        return 1
    print(f"scored {rows} rows into {args.output}", file=sys.stderr)
    return 0


def _prior(value: str) -> str | dict[str, float]:
    if value in get_args(NamedPrior):
        return value
    try:
        weights: dict[str, float] = json.loads(value)
    except ValueError:
        weights = {}
    if not isinstance(weights, dict) or not weights:
        names = ", ".join(get_args(NamedPrior))
        raise argparse.ArgumentTypeError(
            f"not {names} or a JSON object of weights per emotion: {value!r}"
        )
    return weights


def _usage_errors(parse: Callable[[str], T]) -> Callable[[str], T]:
    """``parse`` as an argparse type: its ValueError a usage error that says what is wrong. For
    --since and --until (``parse_bound``), --baseline (``parse_range``), --bucket
    (``parse_width``), all read as the report reads them."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    return convert


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError(f"not a rate between 0 and 1: {text!r}")
    return rate


def _add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--logs",
        type=Path,
        default=Path("logs/predictions"),
        metavar="DIR",
        help="directory, or tree of replica directories, of prediction day-files "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--since",
        type=_usage_errors(parse_bound),
        metavar="WHEN",
        help="first day-file date, YYYY-MM-DD, inclusive; or a UTC time, YYYY-MM-DDTHH:MM, "
        "which also selects lines by timestamp",
    )
    parser.add_argument(
        "--until",
        type=_usage_errors(parse_bound),
        metavar="WHEN",
        help="last day-file date, inclusive; or a UTC time, exclusive",
    )
    parser.add_argument(
        "--bucket",
        type=_usage_errors(parse_width),
        metavar="WIDTH",
        help="time buckets of the over-time table and chart: 5m, 15m, 1h, 6h, 1d... "
        "(default: by the span, at most about 36)",
    )
    parser.add_argument(
        "--baseline",
        type=_usage_errors(parse_range),
        metavar="FROM..TO",
        help="compare with this period (dates or times, as --since and --until) instead of the "
        "one of the same length before --since",
    )
    parser.add_argument(
        "--format", choices=get_args(Format), default="text", help="html: one self-contained page"
    )
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="also write a PNG")
    parser.add_argument(
        "--max-low-confidence-rate",
        type=_rate,
        metavar="R",
        help="exit 2 when the low-confidence rate is above R (0..1)",
    )
    parser.add_argument(
        "--max-fallback-rate",
        type=_rate,
        metavar="R",
        help="exit 2 when the fallback rate (route other than linear_head, empty turns left out) "
        "is above R (0..1)",
    )


def _cmd_report(args: argparse.Namespace) -> int:
    """Print the report; 1 when there is nothing to read, 2 when a --max-* check fails."""
    limits = Limits(args.max_low_confidence_rate, args.max_fallback_rate)
    try:
        report = build_report(
            args.logs,
            args.since,
            args.until,
            bucket_s=args.bucket,
            baseline=args.baseline,
            limits=limits,
        )
    except FileNotFoundError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 1
    if not report.files:
        print(
            f"report: no predictions_YYYY-MM-DD*.jsonl[.gz] under {args.logs} "
            f"for dates {range_text(args.since, args.until)}",
            file=sys.stderr,
        )
        return 1
    print(render(report, args.format), end="")
    if args.plot is not None:
        try:
            plot(report, args.plot)
        except (RuntimeError, OSError) as exc:
            print(f"report: cannot write the plot: {exc}", file=sys.stderr)
            return 1
    failed = [c for c in report.checks if not c.passed]
    for check in failed:
        print(
            f"report: {check.name} {check.value:.4f} exceeds the maximum {check.limit:.4f}",
            file=sys.stderr,
        )
    return 2 if failed else 0


def _shared_corpus(name: str) -> dict[str, Any]:
    """``../shared/<name>`` beside a source checkout as the option's default; an installed
    package has no such place, so there the option is required: asked for up front, not missed
    after the model has loaded."""
    root = checkout_root()
    return {"default": root.parent / "shared" / name} if root else {"required": True}


def _beside_checkout(name: str) -> Path | None:
    """``../shared/<name>`` where it exists beside a source checkout, else None."""
    root = checkout_root()
    found = root.parent / "shared" / name if root else None
    return found if found and found.is_dir() else None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jeffrey-affect",
        description="Read the emotion in chat turns; train, evaluate and monitor the model.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "classify",
        help="print one JSON result a line",
        description="Print one JSON result a line. Each is also logged under the configured "
        "log directory ($JEFFREY_AFFECT_LOG_DIR, default "
        f"{AffectConfig.model_fields['log_dir'].default}).",
    )
    p.add_argument("texts", nargs="*", metavar="TEXT")
    p.add_argument(
        "--stdin",
        action="store_true",
        help="read one text a line from stdin, each answered as it arrives (the lines already "
        "waiting are classified together)",
    )
    p.set_defaults(run=_cmd_classify)

    p = sub.add_parser("demo", help="classify a handful of varied turns")
    p.set_defaults(run=_cmd_demo)

    p = sub.add_parser(
        "export",
        help="export the encoder for ONNX Runtime into the cache now, not on first use",
        description="Export the configured encoder, with the artifacts' adapter, into the ONNX "
        "cache ($JEFFREY_AFFECT_ONNX_CACHE, else the user cache directory); print its directory.",
    )
    p.set_defaults(run=_cmd_export)

    data = _shared_corpus("goemotions")
    goemotions = "a copy of the GoEmotions release (train.tsv, dev.tsv, test.tsv, labels.txt)"
    cache = Path(".cache/embeddings")
    p = sub.add_parser(
        "train",
        help="train the English artifacts on GoEmotions, XED and chat_train, and the multilingual "
        "ones on every language's chat_train and BRIGHTER",
    )
    p.add_argument("--data", type=Path, help=goemotions, **data)
    p.add_argument("--xed", type=Path, help="XED English release", **_shared_corpus("xed"))
    p.add_argument(
        "--brighter", type=Path, help="BRIGHTER track A release", **_shared_corpus("brighter")
    )
    p.add_argument("--chat", type=Path, default=CHAT_TRAIN, help="label<TAB>text chat turns")
    p.add_argument(
        "--hard", type=Path, default=HARD_TRAIN, help="label<TAB>kind<TAB>text turns of hard kinds"
    )
    p.add_argument("--out", type=Path, default=Path("models"))
    p.add_argument("--cache-dir", type=Path, default=cache)
    p.add_argument(
        "--adapter",
        type=Path,
        help="reuse this encoder adapter instead of fine-tuning (one train made, same settings)",
    )
    p.set_defaults(run=_cmd_train)

    p = sub.add_parser("eval", help="macro-F1, accuracy and per-class figures per route")
    p.add_argument("--data", type=Path, help=goemotions, **data)
    p.add_argument("--split", choices=("train", "dev", "test"), default="test")
    p.add_argument(
        "--class-prior",
        type=_prior,
        default=None,
        help="tempered (default), uniform, train or JSON weights",
    )
    p.add_argument("--cache-dir", type=Path, default=cache)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_eval)

    p = sub.add_parser("validate", help="release gate: every quality target in one table")
    p.add_argument("--data", type=Path, help=goemotions, **data)
    p.add_argument("--artifacts", type=Path, default=None, help="default: the bundled artifacts")
    p.add_argument(
        "--brighter",
        type=Path,
        help="BRIGHTER track A release, for its test figures (default: ../shared/brighter beside "
        "a source checkout; none: those rows are left out)",
        default=_beside_checkout("brighter"),
    )
    p.add_argument("--report-dir", type=Path, default=Path("reports"))
    p.add_argument(
        "--chat-set",
        "--smoke-set",
        type=Path,
        action="append",
        required=checkout_root() is None,
        help="chat turns, label<TAB>text a line; repeatable; default: the sets in tests/data of "
        "a source checkout, which an installed package does not have",
    )
    p.add_argument("--cache-dir", type=Path, default=cache)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_cmd_validate)

    p = sub.add_parser(
        "score",
        help="score an archive of turns (Parquet, JSONL or CSV) into Parquet",
        description="Add emotion, confidence, scores, route and error columns to every row. "
        "local: this process, one Parquet file; ray: a Ray cluster, a directory of Parquet files.",
    )
    p.add_argument(
        "--input", type=Path, required=True, metavar="PATH", help=".parquet, .jsonl, .ndjson, .csv"
    )
    p.add_argument(
        "--output",
        type=Path,
        required=True,
        metavar="PATH",
        help="Parquet: a .parquet file (local), a new directory (ray)",
    )
    p.add_argument("--text-column", default="text", help="default: %(default)s")
    p.add_argument("--engine", choices=get_args(Engine), default="local")
    p.add_argument(
        "--address", help="Ray cluster address (ray engine), e.g. auto; default: a new local one"
    )
    p.set_defaults(run=_cmd_score)

    p = sub.add_parser("report", help="monitoring analysis of the prediction logs")
    _add_report_arguments(p)
    p.set_defaults(run=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, and keep the interpreter's own
        # final flush from raising again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (OSError, ValueError) as exc:  # a missing file or model, a bad setting
        print(f"jeffrey-affect {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
