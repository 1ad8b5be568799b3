"""Archive scoring: tables of turns in, the same rows with their emotion out, on Ray Data or in
this process.

Both engines classify the same consecutive slices of ``BATCH_ROWS`` rows, each with one
``classify_batch`` call on a classifier whose cache is off, so a row's result depends only on its
slice, not on which worker saw which texts before: the two engines write identical figures. The
int8 encoder scores a turn slightly differently beside other turns (``ENCODE_CHUNK`` in
``_classifier``); aligning the slices is what makes the engines agree to the bit.

Needs pyarrow (the ``parquet`` extra), and Ray for ``score_dataset`` (the ``ray`` extra).
"""

import codecs
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jeffrey_affect._classifier import AffectClassifier
from jeffrey_affect._config import AffectConfig
from jeffrey_affect._labels import EMOTIONS, Emotion

if TYPE_CHECKING:
    import pyarrow as pa
    import ray.data

BATCH_ROWS = 256
"""Rows per ``classify_batch`` call: enough to keep the encoder busy, few enough that a retried
task redoes little."""
OUTPUT_COLUMNS = ("emotion", "confidence", "scores", "route", "error")
Engine = Literal["local", "ray"]
InputFormat = Literal["parquet", "jsonl", "csv"]
_SUFFIXES: dict[str, InputFormat] = {
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}


def archive_classifier(config: AffectConfig | None = None) -> AffectClassifier:
    """The classifier both engines score with: the given settings, with the cache off (a row's
    result must not depend on what its worker saw before) and no prediction log (the log is for
    live traffic; an archive would swamp its report)."""
    settings = (config or AffectConfig()).model_copy(update={"cache_size": 0, "log_enabled": False})
    return AffectClassifier(settings)


def _check_text_column(text_column: str, *, json_lines: bool) -> None:
    """Raise ``ValueError`` for a text column the output could not hold beside its own columns:
    checked before any work, so that a bad name is one line, not a failed job."""
    if text_column in OUTPUT_COLUMNS:
        raise ValueError(f"the text column cannot be named like an output column: {text_column}")
    if json_lines and text_column == _FIELDS:
        raise ValueError(
            f"the text column cannot be {_FIELDS!r} in JSON Lines, where {_FIELDS!r} holds each "
            "line's other fields: rename that field in the input"
        )


def _check_columns(columns: list[str], text_column: str) -> None:
    """Raise ``ValueError`` unless a table of ``columns`` can be scored on ``text_column``."""
    _check_text_column(text_column, json_lines=False)
    if text_column not in columns:
        raise _no_column(text_column, columns)
    clash = sorted(set(OUTPUT_COLUMNS) & set(columns))
    if clash:
        raise ValueError(f"the input already has output columns {clash}: rename them first")


def _no_column(text_column: str, columns: list[str]) -> ValueError:
    return ValueError(f"no column {text_column!r}; the columns are {columns}")


def _check_json_lines(source: Path, text_column: str) -> None:
    """Raise ``ValueError`` when the objects of the JSON Lines ``source`` have fields but never
    ``text_column``, as ``_check_columns`` does for a table: read up to the first line that has
    it, so whole only when none has."""
    columns: dict[str, None] = {}  # every object's fields, in order of first sight
    with source.open("rb") as f:
        for line in _json_lines(f):
            record = _record(line)
            if isinstance(record, dict):
                if text_column in record:
                    return
                columns.update(dict.fromkeys(record))
    if columns:
        raise _no_column(text_column, list(columns))


def score_table(clf: AffectClassifier, table: "pa.Table", text_column: str) -> "pa.Table":
    """``table`` with the output columns added and ``text_column`` made a string column.

    A value that is not a string (null, a number) is null in ``text_column`` and in the outputs,
    and ``error`` says what it was; the other rows are classified in one ``classify_batch``.
    """
    _check_columns(table.column_names, text_column)
    values = table.column(text_column).to_pylist()
    text, outputs = _outputs(clf, values, text_column)
    table = table.set_column(table.column_names.index(text_column), text_column, text)
    for name, column in outputs.items():
        table = table.append_column(name, column)
    return table


def score_json_lines(
    clf: AffectClassifier, lines: Sequence[str | bytes], text_column: str
) -> "pa.Table":
    """JSON Lines scored: ``text_column`` of each line's object, which may hold any JSON value,
    then the line's other fields as one JSON object in ``fields``.

    Parsed here rather than by Arrow, whose reader stops at a field that changes type; keeping the
    other fields as JSON gives every slice the same columns, whatever its lines hold. A line that
    is not UTF-8, not a JSON object, or not text once parsed has null ``fields`` and outputs, and
    an ``error``; bytes are decoded line by line so that such a line spoils itself alone.
    """
    import pyarrow as pa

    _check_text_column(text_column, json_lines=True)
    fields: list[str | None] = []
    values: list[object] = []
    for line in lines:
        record = _record(line)
        if isinstance(record, dict):
            values.append(record.pop(text_column, None))
            fields.append(json.dumps(record, ensure_ascii=False))
        else:
            values.append(record)
            fields.append(None)
    text, outputs = _outputs(clf, values, text_column)
    return pa.table({_FIELDS: pa.array(fields, pa.string()), text_column: text, **outputs})


_FIELDS = "fields"
"""The column that holds a JSON line's fields other than its text."""
_NOT_AN_OBJECT = object()
"""Stands for the text of a JSON line that is not an object."""
_NOT_UTF8 = object()
"""Stands for the text of a line that is not UTF-8."""
_LONE_SURROGATE = object()
"""Stands for the text of a JSON line with a lone surrogate escape, which no UTF-8 can hold."""


def _record(line: str | bytes) -> dict[str, Any] | object:
    """A JSON line's object, or what stands for the text of a line that has none."""
    try:
        record = json.loads(line.decode("utf-8") if isinstance(line, bytes) else line)
    except UnicodeDecodeError:
        return _NOT_UTF8
    except ValueError:
        return _NOT_AN_OBJECT
    if not isinstance(record, dict):
        return _NOT_AN_OBJECT
    try:  # "\ud83d" alone (a turn cut mid-emoji) parses to a str no Arrow string can hold
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE
    return record


def _json_lines(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The lines both engines score: split at b"\\n" alone, as JSON Lines is (``str.splitlines``
    would also split at U+2028, U+2029 and U+0085, which JSON text may hold raw), a byte order
    mark before the first dropped, a "\\r" before the "\\n" dropped, blank lines skipped."""
    rest = iter(lines)
    first = next(rest, b"").removeprefix(codecs.BOM_UTF8)
    return (line.rstrip(b"\r\n") for line in chain([first], rest) if line.strip())


def _outputs(
    clf: AffectClassifier, values: list[object], text_column: str
) -> tuple["pa.Array", dict[str, "pa.Array"]]:
    """The text column, strings kept and anything else null, and the output columns."""
    import pyarrow as pa

    results = iter(clf.classify_batch([v for v in values if isinstance(v, str)]))
    emotion: list[str | None] = []
    confidence: list[float | None] = []
    scores: list[dict[Emotion, float] | None] = []
    route: list[str | None] = []
    error: list[str | None] = []
    for value in values:
        if isinstance(value, str):
            r = next(results)
            emotion.append(r.emotion)
            confidence.append(r.confidence)
            scores.append(r.scores)
            route.append(r.route)
            error.append(None)
            continue
        for column in (emotion, confidence, scores, route):
            column.append(None)
        error.append(_problem(value, text_column))
    text = pa.array([v if isinstance(v, str) else None for v in values], pa.string())
    return text, {
        "emotion": pa.array(emotion, pa.string()),
        "confidence": pa.array(confidence, pa.float64()),
        "scores": pa.array(scores, pa.struct([(e, pa.float64()) for e in EMOTIONS])),
        "route": pa.array(route, pa.string()),
        "error": pa.array(error, pa.string()),
    }


def _problem(value: object, text_column: str) -> str:
    if value is _NOT_AN_OBJECT:
        return "the line is not a JSON object"
    if value is _NOT_UTF8:
        return "the line is not UTF-8"
    if value is _LONE_SURROGATE:
        return "the line holds a lone surrogate escape (half of a pair, such as \\ud83d alone)"
    if value is None:
        return f"{text_column} is null"
    return f"{text_column} is {type(value).__name__}, not a string"


class _Scorer:
    """One per Ray worker: the model loads once, in ``__init__``, and serves every batch."""

    def __init__(self, config: AffectConfig, text_column: str, json_lines: bool) -> None:
        import ray

        if config.encoder_threads is None:
            # The CPUs Ray gives this worker, not every core of a machine other workers share.
            assigned = ray.get_runtime_context().get_assigned_resources()  # type: ignore[no-untyped-call,unused-ignore]
            cpus = assigned.get("CPU", 0)
            if cpus >= 1:
                config = config.model_copy(update={"encoder_threads": int(cpus)})
        self._clf = archive_classifier(config)
        self._text_column = text_column
        self._json_lines = json_lines

    def __call__(self, batch: "pa.Table") -> "pa.Table":
        if self._json_lines:
            lines = batch.column(_LINE).to_pylist()
            return score_json_lines(self._clf, lines, self._text_column)
        return score_table(self._clf, batch, self._text_column)


_LINE = "line"
"""The column ``_split_lines`` puts each JSON line in, as bytes."""


def _split_lines(files: "pa.Table") -> "pa.Table":
    """``ray.data.read_binary_files``' rows, a file each, as one row a JSON line: bytes, split as
    the local engine splits them (``read_text`` decodes a whole file and splits it with
    ``str.splitlines``)."""
    import pyarrow as pa

    lines = [
        line
        for data in files.column("bytes").to_pylist()
        for line in _json_lines(data.split(b"\n"))
    ]
    return pa.table({_LINE: pa.array(lines, pa.large_binary())})


def score_dataset(
    ds: "ray.data.Dataset",
    *,
    text_column: str = "text",
    config: AffectConfig | None = None,
    workers: int | None = None,
) -> "ray.data.Dataset":
    """``ds`` with ``emotion``, ``confidence``, ``scores`` (a struct of every emotion's score),
    ``route`` and ``error`` columns, in the input's row order.

    Each of ``workers`` Ray actors (an autoscaling pool when None) loads the model once and
    scores consecutive slices of ``BATCH_ROWS`` rows, the slices ``score`` makes in one process,
    with as many ONNX Runtime threads as Ray gives it CPUs unless ``config`` sets
    ``encoder_threads``. ``config`` travels to the workers, so they score with the driver's
    settings. Turns on ``preserve_order`` in ``ds.context``, which ``ds`` shares with the
    datasets made from it.
    Raises ``ValueError`` for a ``ds`` without ``text_column`` or with an output column, read from
    its schema (which may run ``ds`` as far as its first block), and for ``workers`` that would
    take every CPU of the cluster: each worker holds one, and reading and slicing the input needs
    another, without which Ray would wait forever. With N CPUs, give at most N - 1 workers.
    """
    if workers is not None:
        import ray

        if not ray.is_initialized():  # as Ray Data would on running ``ds``, but before it
            ray.init()
        cpus = int(ray.cluster_resources().get("CPU", 0))  # type: ignore[no-untyped-call,unused-ignore]
        if workers >= cpus:
            raise ValueError(
                f"workers={workers} needs {workers + 1} CPUs, one per worker and one to read the "
                f"input, and the cluster has {cpus}: give fewer workers, or None to let Ray scale "
                "them"
            )
    return _score(ds, text_column, config, workers, json_lines=False)


def _score(
    ds: "ray.data.Dataset",
    text_column: str,
    config: AffectConfig | None,
    workers: int | None,
    *,
    json_lines: bool,
) -> "ray.data.Dataset":
    import ray.data

    _check_text_column(text_column, json_lines=json_lines)
    if not json_lines and (schema := ds.schema()) is not None:
        _check_columns(list(schema.names), text_column)  # here, not as a traceback from a worker
    settings = config or AffectConfig()  # the driver's environment, not each worker's
    # Slices of exactly BATCH_ROWS rows, in order, whatever the input's blocks: the slices the
    # local engine makes, so that int8's batch-dependence cannot tell the engines apart.
    ds.context.execution_options.preserve_order = True
    aligned = ds.repartition(target_num_rows_per_block=BATCH_ROWS, strict=True)
    return aligned.map_batches(
        _Scorer,
        fn_constructor_args=(settings, text_column, json_lines),
        batch_size=BATCH_ROWS,
        batch_format="pyarrow",
        compute=None if workers is None else ray.data.ActorPoolStrategy(size=workers),
    )


def input_format(path: Path) -> InputFormat:
    """By suffix: .parquet, .jsonl (or .ndjson), .csv."""
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise ValueError(
            f"cannot tell the format of {path}: name it .parquet, .jsonl, .ndjson or .csv"
        ) from None


def _check_output(output: Path, engine: Engine) -> None:
    """Raise ``ValueError`` for an output ``engine`` cannot write, before any work: a name whose
    suffix says another format than the Parquet it would get, a directory for ``local``'s one
    file, and for ``ray``, which appends to a directory, anything but a new or empty one (a second
    run would sit beside the first, counted twice)."""
    if output.suffix.lower() not in ("", ".parquet"):
        raise ValueError(
            f"{output} is named like {output.suffix}, and score writes Parquet: name the output "
            f"{output.with_suffix('.parquet')} (or, for --engine ray, a directory without a "
            "suffix)"
        )
    if engine == "local" and output.is_dir():
        raise ValueError(f"{output} is a directory; give --engine local a file name")
    if engine == "ray" and output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValueError(f"{output} exists; give --engine ray a new or empty directory")


def score_file(
    source: Path,
    output: Path,
    *,
    text_column: str = "text",
    engine: Engine = "local",
    address: str | None = None,
    config: AffectConfig | None = None,
) -> int:
    """Score ``source`` into the Parquet ``output``; return the number of rows.

    ``local`` writes one file with a progress bar; ``ray`` writes a directory of files, one per
    block, on the cluster at ``address`` (a new local one when None), with Ray's progress bars.
    Raises ``ValueError`` for an ``output`` ``_check_output`` refuses, and for an input without
    rows or without ``text_column`` (in JSON Lines, when no object has it, checked before any
    scoring).
    """
    fmt = input_format(source)
    _check_output(output, engine)
    _check_text_column(text_column, json_lines=fmt == "jsonl")
    if fmt == "jsonl":
        _check_json_lines(source, text_column)
    if engine == "ray":
        return _score_file_on_ray(source, output, fmt, text_column, address, config)
    return _score_file_locally(source, output, fmt, text_column, config)


def _score_file_on_ray(
    source: Path,
    output: Path,
    fmt: InputFormat,
    text_column: str,
    address: str | None,
    config: AffectConfig | None,
) -> int:
    import ray

    ray.init(address=address, ignore_reinit_error=True)
    if fmt == "parquet":
        ds = ray.data.read_parquet(str(source))
    elif fmt == "csv":
        ds = ray.data.read_csv(str(source), convert_options=_csv_options(source))
    else:
        ds = ray.data.read_binary_files(str(source)).map_batches(
            _split_lines, batch_format="pyarrow"
        )
    scored = _score(ds, text_column, config, None, json_lines=fmt == "jsonl")
    scored.write_parquet(str(output))
    return int(ray.data.read_parquet(str(output)).count())


def _score_file_locally(
    source: Path, output: Path, fmt: InputFormat, text_column: str, config: AffectConfig | None
) -> int:
    """Written beside ``output`` and renamed once whole: a job that fails partway leaves no file
    that looks finished, and an earlier ``output`` stays as it was."""
    clf = archive_classifier(config)
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    try:
        rows = _write_scored(clf, source, partial, fmt, text_column)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return rows


def _write_scored(
    clf: AffectClassifier, source: Path, output: Path, fmt: InputFormat, text_column: str
) -> int:
    import pyarrow.parquet as pq
    from tqdm import tqdm

    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        with tqdm(unit="row", desc=f"scoring {source.name}", total=_rows_in(source, fmt)) as bar:
            for scored in _local_slices(clf, source, fmt, text_column):
                if writer is None:
                    writer = pq.ParquetWriter(output, scored.schema)
                writer.write_table(scored)
                rows += scored.num_rows
                bar.update(scored.num_rows)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no file written: say so rather than report success
        raise ValueError(f"{source} holds no rows to score")
    return rows


def _local_slices(
    clf: AffectClassifier, source: Path, fmt: InputFormat, text_column: str
) -> Iterator["pa.Table"]:
    if fmt == "jsonl":
        with source.open("rb") as f:  # bytes: a file's lines end at b"\n" alone
            lines = _json_lines(f)
            while chunk := list(islice(lines, BATCH_ROWS)):
                yield score_json_lines(clf, chunk, text_column)
        return
    for table in _rechunk(_arrow_batches(source, fmt)):
        yield score_table(clf, table, text_column)


def _arrow_batches(source: Path, fmt: InputFormat) -> Iterator["pa.Table"]:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if fmt == "parquet":
        batches: Iterable[pa.RecordBatch] = pq.ParquetFile(source).iter_batches(BATCH_ROWS)
    else:
        batches = pcsv.open_csv(source, convert_options=_csv_options(source))
    for batch in batches:
        yield pa.Table.from_batches([batch])


def _rechunk(tables: Iterator["pa.Table"]) -> Iterator["pa.Table"]:
    """Exactly ``BATCH_ROWS`` rows a table, the last excepted, whatever the reader's batches."""
    import pyarrow as pa

    pending: list[pa.Table] = []
    held = 0
    for table in tables:
        pending.append(table)
        held += table.num_rows
        while held >= BATCH_ROWS:
            joined = pa.concat_tables(pending)
            yield joined.slice(0, BATCH_ROWS)
            pending, held = [joined.slice(BATCH_ROWS)], held - BATCH_ROWS
    if held:
        yield pa.concat_tables(pending)


def _csv_options(source: Path) -> Any:
    """CSV has no types: every column is read as text, so "42" is a turn to classify, and a
    column whose first block held numbers cannot stop the job at a later "A-123" (Arrow would
    type it by its first block)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    with pcsv.open_csv(source) as reader:  # the header, and one block
        names = reader.schema.names
    return pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))


def _rows_in(source: Path, fmt: InputFormat) -> int | None:
    """For the progress bar: Parquet says; the text formats would need a pass of their own."""
    if fmt != "parquet":
        return None
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(source).metadata.num_rows)
