"""Archive scoring: tables of turns in, the same rows with their emotion out, on Ray Data or in
this process.

Both engines classify the same consecutive slices of ``BATCH_ROWS`` rows, each with one
``classify_batch`` call on a classifier whose cache is off, so a row's result depends only on its
slice, not on which worker saw which texts before: the two engines write identical figures. The
int8 encoder scores a turn slightly differently beside other turns (``ENCODE_CHUNK`` in
``_classifier``); aligning the slices is what makes the engines agree to the bit.

JSON Lines and CSV are read here, not by Arrow, by the same code on both engines: Arrow stops the
job at a line that is not UTF-8 or changes a field's type, lets a CSV quote left open swallow the
rows after it, and prints the row it cannot parse. Here each such line becomes a row of its own
whose ``error`` names its line number, never its content, and the job goes on.

Needs pyarrow (the ``parquet`` extra), and Ray for ``score_dataset`` (the ``ray`` extra).
"""

import codecs
import csv
import io
import json
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jeffrey_affect._classifier import AffectClassifier
from jeffrey_affect._config import AffectConfig
from jeffrey_affect._labels import EMOTIONS, Emotion
from jeffrey_affect._log import logged_text

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


def _check_columns(columns: Sequence[str], text_column: str) -> None:
    """Raise ``ValueError`` unless a table of ``columns`` can be scored on ``text_column``."""
    _check_text_column(text_column, json_lines=False)
    if text_column not in columns:
        raise _no_column(text_column, columns)
    clash = sorted(set(OUTPUT_COLUMNS) & set(columns))
    if clash:
        raise ValueError(f"the input already has output columns {clash}: rename them first")


_NAME_CHARS = 30


def _no_column(text_column: str, columns: Sequence[str]) -> ValueError:
    return ValueError(f"no column {text_column!r}; the columns are {_names(columns)}")


def _names(columns: Iterable[str]) -> list[str]:
    """Column names as an error may show them: redacted and cut as the log keeps a turn, since a
    CSV file without a header has a row of text where its names should be."""
    return [logged_text(name, _NAME_CHARS) for name in columns]


def score_table(clf: AffectClassifier, table: "pa.Table", text_column: str) -> "pa.Table":
    """``table`` with the output columns added and ``text_column`` made a string column.

    A value that is not a string (null, a number) is null in ``text_column`` and in the outputs,
    and ``error`` says what it was; the other rows are classified in one ``classify_batch``.
    """
    _check_columns(table.column_names, text_column)
    values = table.column(text_column).to_pylist()
    text, outputs = _outputs(clf, values, text_column, None)
    table = table.set_column(table.column_names.index(text_column), text_column, text)
    for name, column in outputs.items():
        table = table.append_column(name, column)
    return table


@dataclass(frozen=True)
class _Table:
    """Parquet, or any Ray dataset: the rows are the table's, scored by ``score_table``."""

    text_column: str

    def score(self, clf: AffectClassifier, batch: "pa.Table") -> "pa.Table":
        return score_table(clf, batch, self.text_column)


@dataclass(frozen=True)
class _Unreadable:
    """Stands for the text of a line or row that could not be read, and says why."""

    why: str


def _numbered_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """A text file's lines as both engines number them, from 1: split at b"\\n" alone
    (``str.splitlines`` would also split at U+2028, U+2029 and U+0085, which JSON and CSV text
    may hold raw), a byte order mark before the first dropped."""
    rest = iter(lines)
    first = next(rest, b"").removeprefix(codecs.BOM_UTF8)
    return enumerate(chain([first], rest), start=1)


_FIELDS = "fields"
"""The column that holds a JSON line's fields other than its text and its own columns."""
_NOT_UTF8 = _Unreadable("not UTF-8")
_NOT_AN_OBJECT = _Unreadable("not a JSON object")
_LONE_SURROGATE = _Unreadable(
    "a lone surrogate escape (half of a pair, such as \\ud83d alone), which no UTF-8 can hold"
)


@dataclass(frozen=True)
class _JsonLines:
    """JSON Lines: ``text_column`` of each line's object, which may hold any JSON value; each
    field of ``columns`` in a column of its own, of the Arrow type named beside it; the line's
    other fields as one JSON object in ``fields``.

    Parsed here rather than by Arrow, whose reader stops at a field that changes type. A line that
    is not UTF-8, not a JSON object, or not text once parsed has null columns and outputs, and an
    ``error``; bytes are decoded line by line so that such a line spoils itself alone.
    """

    text_column: str
    columns: tuple[tuple[str, str], ...]

    @classmethod
    def read(cls, source: Path, text_column: str) -> "_JsonLines":
        """One pass over ``source`` for its columns: each field whose values, null aside, are of
        one scalar type (string, integer, float or boolean) on every line, so that a scored row
        can be joined back on it; a field named like the text or an output column stays in
        ``fields``. Raises ``ValueError`` when the objects have fields but never ``text_column``,
        as ``_check_columns`` does for a table."""
        kinds: dict[str, set[str]] = {}  # every object's fields, in order of first sight
        with source.open("rb") as f:
            for _, line in _json_lines(f):
                record = _record(line)
                if isinstance(record, dict):
                    for name, value in record.items():
                        found = kinds.setdefault(name, set())
                        if value is not None:
                            found.add(_kind(value))
        if kinds and text_column not in kinds:
            raise _no_column(text_column, list(kinds))
        own = {text_column, _FIELDS, *OUTPUT_COLUMNS}
        columns = []
        for name, found in kinds.items():
            if name not in own and len(found) == 1 and found != {_NOT_SCALAR}:
                columns.append((name, found.pop()))
        return cls(text_column, tuple(columns))

    def units(self, lines: Iterable[bytes]) -> Iterator[dict[str, object]]:
        return ({"line": n, "data": line} for n, line in _json_lines(lines))

    def unit_schema(self) -> "pa.Schema":
        import pyarrow as pa

        return pa.schema({"line": pa.int64(), "data": pa.large_binary()})

    def score(self, clf: AffectClassifier, batch: "pa.Table") -> "pa.Table":
        import pyarrow as pa

        own: dict[str, list[object]] = {name: [] for name, _ in self.columns}
        fields: list[str | None] = []
        values: list[object] = []
        for line in batch.column("data").to_pylist():
            record = _record(line)
            if isinstance(record, dict):
                values.append(record.pop(self.text_column, None))
                for name, column in own.items():
                    column.append(record.pop(name, None))
                fields.append(json.dumps(record, ensure_ascii=False))
            else:
                values.append(record)
                fields.append(None)
                for column in own.values():
                    column.append(None)
        text, outputs = _outputs(clf, values, self.text_column, batch.column("line").to_pylist())
        columns = {
            name: pa.array(own[name], pa.type_for_alias(kind)) for name, kind in self.columns
        }
        return pa.table(
            {**columns, _FIELDS: pa.array(fields, pa.string()), self.text_column: text, **outputs}
        )


def _json_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The lines both engines score, with their numbers: a "\\r" before the "\\n" dropped, blank
    lines skipped."""
    return ((n, line.rstrip(b"\r\n")) for n, line in _numbered_lines(lines) if line.strip())


_NOT_SCALAR = "not scalar"
"""The kind of a JSON value no column of one scalar type holds: an object, an array, an integer
beyond 64 bits."""


def _kind(value: object) -> str:
    """The Arrow type of a JSON value other than null, or ``_NOT_SCALAR``."""
    if isinstance(value, bool):  # before int, which it is too
        return "bool"
    if isinstance(value, int):
        return "int64" if -(2**63) <= value < 2**63 else _NOT_SCALAR
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return _NOT_SCALAR


def _record(line: bytes) -> dict[str, Any] | _Unreadable:
    """A JSON line's object, or what stands for the text of a line that has none."""
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return _NOT_UTF8
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than json can read
        return _NOT_AN_OBJECT
    if not isinstance(record, dict):
        return _NOT_AN_OBJECT
    try:  # "\ud83d" alone (a turn cut mid-emoji) parses to a str no Arrow string can hold
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE
    return record


@dataclass(frozen=True)
class _Csv:
    """CSV: every column read as text, so "42" is a turn to classify and an id column that turns
    from numbers to "A-123" cannot stop the job; an empty text cell is an ``error``, as a null is,
    since CSV has no other way to write one. What a row is: ``_csv_records``."""

    text_column: str
    header: tuple[str, ...]

    @classmethod
    def read(cls, source: Path, text_column: str) -> "_Csv":
        """``source``'s header, checked. Raises ``ValueError`` for a file without one, a header
        that cannot be read or names a column twice, or a table ``_check_columns`` refuses."""
        with source.open("rb") as f:
            first = next(_csv_records(f, None), None)
        if first is None:
            raise ValueError(f"{source} is empty: a CSV file starts with a line of column names")
        line, header, why = first
        if header is None:
            raise ValueError(f"{source}: the header, line {line}, cannot be read ({why}): fix it")
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:
            raise ValueError(
                f"{source}: the header names columns {_names(twice)} twice: rename them"
            )
        _check_columns(header, text_column)
        return cls(text_column, tuple(header))

    def units(self, lines: Iterable[bytes]) -> Iterator[dict[str, object]]:
        records = _csv_records(lines, self.header)
        next(records, None)  # the header, which ``read`` checked
        return ({"line": n, "cells": cells, "why": why} for n, cells, why in records)

    def unit_schema(self) -> "pa.Schema":
        import pyarrow as pa

        return pa.schema({"line": pa.int64(), "cells": pa.list_(pa.string()), "why": pa.string()})

    def score(self, clf: AffectClassifier, batch: "pa.Table") -> "pa.Table":
        import pyarrow as pa

        rows: list[list[str] | None] = batch.column("cells").to_pylist()
        at = self.header.index(self.text_column)
        values: list[object] = []
        for row, why in zip(rows, batch.column("why").to_pylist(), strict=True):
            if row is None:
                values.append(_Unreadable(why))
            elif row[at] == "":
                values.append(_Unreadable(f"{self.text_column} is empty"))
            else:
                values.append(row[at])
        text, outputs = _outputs(clf, values, self.text_column, batch.column("line").to_pylist())
        columns = {
            name: pa.array([None if row is None else row[i] for row in rows], pa.string())
            for i, name in enumerate(self.header)
        }
        return pa.table({**columns, self.text_column: text, **outputs})


class _CsvLines:
    """The csv reader's source: a file's numbered lines, decoded, invalid UTF-8 escaped (so a
    row's structure still parses and the row can be told apart), and the lines the record being
    read has taken, so that they can be read again."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._rest = _numbered_lines(lines)
        self.again: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> "_CsvLines":
        return self

    def __next__(self) -> str:
        if self.again:
            line = self.again.popleft()
        else:
            number, data = next(self._rest)
            line = (number, data.decode("utf-8", "surrogateescape"))
        self.taken.append(line)
        return line[1]


_ESCAPED = re.compile("[\udc80-\udcff]")
"""What ``surrogateescape`` makes of a byte that is not UTF-8; valid UTF-8 never decodes to it."""


def _csv_records(
    lines: Iterable[bytes], header: Sequence[str] | None
) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """The records of a CSV file's ``lines``, the header first: the number of the line each
    starts on, and its cells, or None and why it cannot be a row.

    Python's csv module reads them in strict mode: a record ends at the end of its line unless a
    quoted field is open, so a quoted text may hold newlines. A record that does not parse (a
    quoted field must close with a quote followed by a comma or the end of a line) or has another
    field count than ``header`` is its first line alone, and reading starts again at the next
    line: a quote left open costs its own row, and the lines it ran over are read again as rows.
    That failure is what tells it from a quoted newline: a later well-formed row's first quote
    comes where the open field cannot end, or the field count is wrong, or the field passes the
    csv module's limit (131,072 characters), which also bounds how far it runs. Only a later
    quote that happens to close it at a field's end, with the header's field count, goes unseen:
    that file is valid CSV, read as it says. A record that is not UTF-8 is one row, with its
    error.
    """
    source = _CsvLines(lines)
    reader = csv.reader(source, strict=True)
    while True:
        source.taken.clear()
        try:
            cells: list[str] | None = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, why = None, _csv_problem(exc)
        else:
            if not cells:  # a blank line
                continue
            if header is not None and len(cells) != len(header):
                why = f"the header has {len(header)} fields, this row {len(cells)}"
                cells = None
        (first, _), *rest = source.taken
        if cells is None:  # where it ends is in doubt: its other lines are read again
            source.again.extendleft(reversed(rest))
            yield first, None, why
        else:  # it ends where it seems to, and a byte that is not UTF-8 spoils it alone
            yield first, *_not_utf8(cells, header)


def _csv_problem(exc: csv.Error) -> str:
    """What the csv module's error means for the user, without the module's own advice."""
    said = str(exc)
    if said.startswith("field larger than field limit"):
        return f"a field longer than {csv.field_size_limit()} characters, or a quote left open"
    if said.startswith("new-line character seen in unquoted field"):
        return "a carriage return (\\r) inside a line, outside quotes"
    return "a quote that does not close at the end of a field: left open, or stray"


def _not_utf8(
    cells: list[str], header: Sequence[str] | None
) -> tuple[list[str], None] | tuple[None, str]:
    """``cells`` and no problem, or none and the first column that is not UTF-8."""
    for i, cell in enumerate(cells):
        if _ESCAPED.search(cell):
            where = f"column {header[i]}" if header else f"field {i + 1}"
            return None, f"{where} is not UTF-8"
    return cells, None


_Input = _Table | _JsonLines | _Csv
"""How a slice of each kind of input becomes scored rows, the same on both engines. The text
formats first cut a file into units, a row to score each with the number of its first line: on
Ray in the one task that reads the file, since where a row ends depends on the rows before it."""


def _outputs(
    clf: AffectClassifier, values: list[object], text_column: str, lines: list[int] | None
) -> tuple["pa.Array", dict[str, "pa.Array"]]:
    """The text column, strings kept and anything else null, and the output columns; each error
    names the line its row starts on, when it has one (JSON Lines, CSV)."""
    import pyarrow as pa

    results = iter(clf.classify_batch([v for v in values if isinstance(v, str)]))
    emotion: list[str | None] = []
    confidence: list[float | None] = []
    scores: list[dict[Emotion, float] | None] = []
    route: list[str | None] = []
    error: list[str | None] = []
    for i, value in enumerate(values):
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
        problem = _problem(value, text_column)
        error.append(problem if lines is None else f"line {lines[i]}: {problem}")
    text = pa.array([v if isinstance(v, str) else None for v in values], pa.string())
    return text, {
        "emotion": pa.array(emotion, pa.string()),
        "confidence": pa.array(confidence, pa.float64()),
        "scores": pa.array(scores, pa.struct([(e, pa.float64()) for e in EMOTIONS])),
        "route": pa.array(route, pa.string()),
        "error": pa.array(error, pa.string()),
    }


def _problem(value: object, text_column: str) -> str:
    """Why a value is not scored, naming the column and never the value."""
    if isinstance(value, _Unreadable):
        return value.why
    if value is None:
        return f"{text_column} is null"
    return f"{text_column} is {type(value).__name__}, not a string"


class _Scorer:
    """One per Ray worker: the model loads once, in ``__init__``, and serves every batch."""

    def __init__(self, config: AffectConfig, how: _Input) -> None:
        import ray

        if config.encoder_threads is None:
            # The CPUs Ray gives this worker, not every core of a machine other workers share.
            assigned = ray.get_runtime_context().get_assigned_resources()  # type: ignore[no-untyped-call,unused-ignore]
            cpus = assigned.get("CPU", 0)
            if cpus >= 1:
                config = config.model_copy(update={"encoder_threads": int(cpus)})
        self._clf = archive_classifier(config)
        self._how = how

    def __call__(self, batch: "pa.Table") -> "pa.Table":
        return self._how.score(self._clf, batch)


def _split(files: "pa.Table", how: _JsonLines | _Csv) -> "pa.Table":
    """The files ``ray.data.read_binary_files`` gives, one a row, as units, one a row, cut as the
    local engine cuts them."""
    import pyarrow as pa

    units = [
        unit for data in files.column("bytes").to_pylist() for unit in how.units(io.BytesIO(data))
    ]
    return pa.Table.from_pylist(units, how.unit_schema())


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
    _check_text_column(text_column, json_lines=False)
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
    return _score(ds, _Table(text_column), config, workers)


def _score(
    ds: "ray.data.Dataset", how: _Input, config: AffectConfig | None, workers: int | None
) -> "ray.data.Dataset":
    import ray.data

    if isinstance(how, _Table) and (schema := ds.schema()) is not None:
        _check_columns(schema.names, how.text_column)  # here, not as a traceback from a worker
    settings = config or AffectConfig()  # the driver's environment, not each worker's
    # Slices of exactly BATCH_ROWS rows, in order, whatever the input's blocks: the slices the
    # local engine makes, so that int8's batch-dependence cannot tell the engines apart.
    ds.context.execution_options.preserve_order = True
    aligned = ds.repartition(target_num_rows_per_block=BATCH_ROWS, strict=True)
    return aligned.map_batches(
        _Scorer,
        fn_constructor_args=(settings, how),
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
    Raises ``ValueError``, before any scoring, for an ``output`` ``_check_output`` refuses, an
    input without rows or without ``text_column`` (in JSON Lines, when no object has it), and a
    CSV whose header cannot be read.
    """
    fmt = input_format(source)
    _check_output(output, engine)
    _check_text_column(text_column, json_lines=fmt == "jsonl")
    how: _Input
    if fmt == "jsonl":
        how = _JsonLines.read(source, text_column)
    elif fmt == "csv":
        how = _Csv.read(source, text_column)
    else:
        how = _Table(text_column)
    if engine == "ray":
        return _score_file_on_ray(source, output, how, address, config)
    return _score_file_locally(source, output, how, config)


def _score_file_on_ray(
    source: Path, output: Path, how: _Input, address: str | None, config: AffectConfig | None
) -> int:
    import ray

    ray.init(address=address, ignore_reinit_error=True)
    if isinstance(how, _Table):
        ds = ray.data.read_parquet(str(source))
    else:
        ds = ray.data.read_binary_files(str(source)).map_batches(
            partial(_split, how=how), batch_format="pyarrow"
        )
    scored = _score(ds, how, config, None)
    scored.write_parquet(str(output))
    return int(ray.data.read_parquet(str(output)).count())


def _score_file_locally(
    source: Path, output: Path, how: _Input, config: AffectConfig | None
) -> int:
    """Written beside ``output`` and renamed once whole: a job that fails partway leaves no file
    that looks finished, and an earlier ``output`` stays as it was."""
    clf = archive_classifier(config)
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    try:
        rows = _write_scored(clf, source, partial, how)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return rows


def _write_scored(clf: AffectClassifier, source: Path, output: Path, how: _Input) -> int:
    import pyarrow.parquet as pq
    from tqdm import tqdm

    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        total = _rows_in(source) if isinstance(how, _Table) else None
        with tqdm(unit="row", desc=f"scoring {source.name}", total=total) as bar:
            for scored in _local_slices(clf, source, how):
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


def _local_slices(clf: AffectClassifier, source: Path, how: _Input) -> Iterator["pa.Table"]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(how, _Table):
        batches = pq.ParquetFile(source).iter_batches(BATCH_ROWS)
        for table in _rechunk(pa.Table.from_batches([batch]) for batch in batches):
            yield how.score(clf, table)
        return
    with source.open("rb") as f:  # bytes: a file's lines end at b"\n" alone
        units = how.units(f)
        while chunk := list(islice(units, BATCH_ROWS)):
            yield how.score(clf, pa.Table.from_pylist(chunk, how.unit_schema()))


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


def _rows_in(source: Path) -> int:
    """For the progress bar: a Parquet file says; the text formats would need a pass of their
    own."""
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(source).metadata.num_rows)
