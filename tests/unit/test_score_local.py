"""The local engine of ``jeffrey-affect score``, with a scripted classifier in the model's place:
what it makes of awkward input, and what it leaves at ``--output`` when it fails."""

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeffrey_affect._result import AffectResult
from jeffrey_affect.batch import score_file
from jeffrey_affect.cli import main
from tests.helpers import made_result

pa = pytest.importorskip("pyarrow", reason="the local engine needs the [parquet] extra")
pq = pytest.importorskip("pyarrow.parquet", reason="the local engine needs the [parquet] extra")


class _Scripted:
    """Stands in for the model: joy for every text in ``good`` calls, then the encoder fails."""

    def __init__(self, good: int) -> None:
        self.good = good

    def classify_batch(self, texts: list[str]) -> list[AffectResult]:
        if self.good == 0:
            raise RuntimeError("the encoder died")
        self.good -= 1
        return [made_result("joy") for _ in texts]


def _scripted(monkeypatch: pytest.MonkeyPatch, good: int = 1_000) -> None:
    monkeypatch.setattr(
        "jeffrey_affect.batch.archive_classifier", lambda config=None: _Scripted(good)
    )


def test_a_local_job_that_fails_partway_leaves_the_earlier_output_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "turns.jsonl"
    source.write_text("".join(f'{{"text": "turn {i}"}}\n' for i in range(600)), encoding="utf-8")
    output = tmp_path / "scored.parquet"
    output.write_bytes(b"an earlier run's file")
    _scripted(monkeypatch, good=1)  # the first slice of 256 rows is written, the second fails

    with pytest.raises(RuntimeError, match="the encoder died"):
        main(["score", "--input", str(source), "--output", str(output)])
    assert output.read_bytes() == b"an earlier run's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.parquet", "turns.jsonl"]


def test_a_jsonl_line_that_is_not_utf8_gets_an_error_and_the_job_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "turns.jsonl"
    with source.open("wb") as f:
        f.writelines(f'{{"id": {i}, "text": "turn {i}"}}\n'.encode() for i in range(300))
        f.write(b'{"id": 300, "text": "caf\xe9 was awful"}\n')  # a latin-1 byte
        f.write(b'{"id": 301, "text": "ok"}\n')
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    rows = pq.read_table(output).to_pylist()
    assert len(rows) == 302
    assert [i for i, r in enumerate(rows) if r["error"]] == [300]
    assert rows[300] | {"scores": None} == {
        "id": None,
        "fields": None,
        "text": None,
        "emotion": None,
        "confidence": None,
        "scores": None,
        "route": None,
        "error": "line 301: not UTF-8",
    }
    assert (rows[301]["id"], rows[301]["fields"], rows[301]["text"]) == (301, "{}", "ok")


def test_csv_columns_are_text_though_a_later_block_holds_what_the_first_did_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrow types a CSV column by its first block (1 MB): a column of numbers there would make
    a later "A-123" fail the job."""
    source = tmp_path / "turns.csv"
    ids = [str(i) for i in range(100_000)] + ["A-123"]
    source.write_text("id,text\n" + "".join(f"{i},turn {i}\n" for i in ids), encoding="utf-8")
    assert source.stat().st_size > 1 << 20
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    scored = pq.read_table(output, columns=["id", "text", "error"])
    assert scored.column("id").to_pylist() == ids
    assert scored.column("text").to_pylist()[-1] == "turn A-123"
    assert scored.column("error").null_count == len(ids)


def test_a_jsonl_file_that_starts_with_a_byte_order_mark_keeps_its_first_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some editors on Windows begin a UTF-8 file with one; a CSV reader drops it already."""
    source = tmp_path / "turns.jsonl"
    source.write_text('{"id": 1, "text": "first"}\n{"id": 2, "text": "second"}\n', "utf-8-sig")
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    rows = pq.read_table(output).to_pylist()
    assert [(r["id"], r["text"], r["error"]) for r in rows] == [
        (1, "first", None),
        (2, "second", None),
    ]


@pytest.mark.parametrize(
    "line",
    [r'{"id": 2, "text": "half \ud83d"}', r'{"id": 2, "text": "ok", "user": {"name": "\udc00"}}'],
    ids=["in the text", "in another field"],
)
def test_a_jsonl_line_with_a_lone_surrogate_gets_an_error_and_the_job_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str
) -> None:
    """Valid JSON, but half of a UTF-16 pair (a turn cut mid-emoji) is no text Parquet can hold."""
    source = tmp_path / "turns.jsonl"
    source.write_text(f'{{"id": 1, "text": "ok"}}\n{line}\n{{"id": 3, "text": "ok"}}\n', "utf-8")
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    rows = pq.read_table(output).to_pylist()
    said = r"line 2: a lone surrogate escape (half of a pair, such as \ud83d alone), which no"
    assert [(r["id"], r["text"], r["emotion"], r["error"]) for r in rows] == [
        (1, "ok", "joy", None),
        (None, None, None, f"{said} UTF-8 can hold"),
        (3, "ok", "joy", None),
    ]


# CSV: what a row is, and what becomes of one that cannot be read.

_MARK = "PRIVATE"
"""In a malformed row: letters of no well-formed row below, so a cell or message holding them
echoed that row."""


def _score_csv(tmp_path: Path, data: bytes) -> list[dict[str, object]]:
    source = tmp_path / "turns.csv"
    source.write_bytes(data)
    output = tmp_path / "scored.parquet"
    assert score_file(source, output) >= 0
    rows: list[dict[str, object]] = pq.read_table(output).to_pylist()
    return rows


def test_a_quote_left_open_costs_its_own_row_and_swallows_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 24's file: Arrow read row 4's text as "oh no\\n5,bye" and said it scored 4 rows."""
    source = tmp_path / "turns.csv"
    source.write_text(f'id,text\n1,hi\n2,fine\n3,ok\n4,"oh no {_MARK}\n5,bye\n', "utf-8")
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    assert capsys.readouterr().err.endswith(f"scored 5 rows into {output}\n")
    rows = pq.read_table(output).to_pylist()
    said = "line 5: a quote that does not close at the end of a field: left open, or stray"
    assert [(r["id"], r["text"], r["emotion"], r["error"]) for r in rows] == [
        ("1", "hi", "joy", None),
        ("2", "fine", "joy", None),
        ("3", "ok", "joy", None),
        (None, None, None, said),
        ("5", "bye", "joy", None),
    ]


def test_a_quoted_text_may_span_lines_in_a_file_of_either_line_ending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Valid CSV: the record's field count and its closing quote say the newline is text."""
    _scripted(monkeypatch)
    for end in ("\n", "\r\n"):
        data = f'id,text{end}1,"one{end}two, ""three"""{end}2,ok{end}'.encode()
        rows = _score_csv(tmp_path, data)
        assert [(r["id"], r["text"], r["error"]) for r in rows] == [
            ("1", f'one{end}two, "three"', None),
            ("2", "ok", None),
        ]


def test_a_quote_left_open_with_no_quote_after_it_stops_at_the_field_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The csv module's limit on a field bounds what an open quote holds before it fails, so a
    large file is read on, not held in memory to its end."""
    _scripted(monkeypatch)
    later = [f"{i},{'a long and unremarkable turn ' * 3}" for i in range(2, 2_000)]
    data = "\n".join(["id,text", f'1,"{_MARK}', *later]).encode()
    assert len(data) > csv.field_size_limit()

    rows = _score_csv(tmp_path, data)
    assert len(rows) == 1 + len(later)
    assert rows[0]["error"] == (
        f"line 2: a field longer than {csv.field_size_limit()} characters, or a quote left open"
    )
    assert [r["id"] for r in rows[1:]] == [str(i) for i in range(2, 2_000)]
    assert all(r["error"] is None for r in rows[1:])


def test_a_row_that_is_not_utf8_gets_an_error_naming_its_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Arrow failed the whole job, naming no row."""
    _scripted(monkeypatch)
    data = b'id,user,text\n1,ann,ok\n2,b\xe9a,fine\n3,cy,"caf\xe9\nugh"\n4,dee,bye\n'
    rows = _score_csv(tmp_path, data)
    assert [(r["id"], r["user"], r["text"], r["error"]) for r in rows] == [
        ("1", "ann", "ok", None),
        (None, None, None, "line 3: column user is not UTF-8"),
        (None, None, None, "line 4: column text is not UTF-8"),
        ("4", "dee", "bye", None),
    ]


def test_an_empty_csv_text_cell_is_an_error_as_a_null_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CSV writes a missing turn as an empty cell: it is not a neutral turn."""
    _scripted(monkeypatch)
    rows = _score_csv(tmp_path, b'id,text,note\n1,,x\n2,"",\n3, ,\n')
    assert [(r["id"], r["text"], r["note"], r["emotion"], r["error"]) for r in rows] == [
        ("1", None, "x", None, "line 2: text is empty"),
        ("2", None, "", None, "line 3: text is empty"),
        ("3", " ", "", "joy", None),
    ]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (f"2,{_MARK},extra", "the header has 2 fields, this row 3"),
        (f"{_MARK}", "the header has 2 fields, this row 1"),
        (
            f'2,"{_MARK}"x',
            "a quote that does not close at the end of a field: left open, or stray",
        ),
        (f"2,{_MARK}\r{_MARK}", "a carriage return (\\r) inside a line, outside quotes"),
    ],
    ids=["too many fields", "too few", "stray quote", "carriage return"],
)
def test_a_malformed_csv_row_gets_its_own_error_and_the_job_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, why: str
) -> None:
    """Arrow failed the job with a message that printed the row: the error names the line."""
    _scripted(monkeypatch)
    rows = _score_csv(tmp_path, f"id,text\n1,hi\n\n{line}\n3,bye\n".encode())
    assert [(r["id"], r["text"], r["error"]) for r in rows] == [
        ("1", "hi", None),
        (None, None, f"line 4: {why}"),  # blank lines are skipped, and counted
        ("3", "bye", None),
    ]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "is empty: a CSV file starts with a line of column names"),
        (f'id,"text {_MARK}\n1,hi\n'.encode(), "the header, line 1, cannot be read (a quote"),
        (b"id,t\xe9xt\n1,hi\n", "the header, line 1, cannot be read (field 2 is not UTF-8)"),
        (b"text,id,text\n1,hi,ho\n", "the header names columns ['text'] twice: rename them"),
    ],
    ids=["empty", "open quote", "not UTF-8", "a name twice"],
)
def test_a_csv_header_that_cannot_be_read_is_one_line_of_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, said: str
) -> None:
    """Before the model loads, and without what the header holds."""
    source = tmp_path / "turns.csv"
    source.write_bytes(data)
    argv = ["score", "--input", str(source), "--output", str(tmp_path / "scored.parquet")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("score: ") and said in err and err.count("\n") == 1
    assert _MARK not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["turns.csv"]


_CELL = st.text(alphabet='ab ,"\n', min_size=1, max_size=12).filter(lambda t: t[0] not in ',"\n')
"""Cells that need quoting now and then: commas, quotes, newlines. None starts with a comma, a
quote or a newline: a quoted cell that does can end a quote left open on an earlier line, and
with the header's field count the file is valid CSV, read as it says (the README says so)."""

_MALFORMED = {
    "open quote in the text": f'M,x,"{_MARK} said'.encode(),
    "open quote in another column": f'M,"{_MARK},{_MARK}'.encode(),
    "stray quote": f'M,"{_MARK}"!,{_MARK}'.encode(),
    "too many fields": f"M,{_MARK},{_MARK},{_MARK}".encode(),
    "too few fields": f"M,{_MARK}".encode(),
    "not UTF-8": b"M,x,caf\xe9 " + _MARK.encode(),
}


def _csv_lines(rows: list[list[str]], quote_all: bool) -> bytes:
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    csv.writer(buffer, lineterminator="\n", quoting=quoting).writerows(rows)
    return buffer.getvalue().encode()


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(_CELL, _CELL), max_size=12),
    at=st.integers(min_value=0),
    kind=st.sampled_from(sorted(_MALFORMED)),
    quote_all=st.booleans(),
)
def test_a_csv_with_one_malformed_row_scores_as_many_rows_as_it_holds_and_leaks_none(
    monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[str, str]],
    at: int,
    kind: str,
    quote_all: bool,
) -> None:
    _scripted(monkeypatch)
    at %= len(rows) + 1
    numbered = [[str(i), user, text] for i, (user, text) in enumerate(rows)]
    before = _csv_lines([["id", "user", "text"], *numbered[:at]], quote_all)
    data = before + _MALFORMED[kind] + b"\n" + _csv_lines(numbered[at:], quote_all)

    with tempfile.TemporaryDirectory() as directory:
        scored = _score_csv(Path(directory), data)

    assert len(scored) == len(rows) + 1
    bad = scored.pop(at)
    line = before.count(b"\n") + 1
    assert str(bad["error"]).startswith(f"line {line}: ")
    assert {k: v for k, v in bad.items() if k != "error"} == dict.fromkeys(bad.keys() - {"error"})
    assert [(r["id"], r["user"], r["text"], r["error"]) for r in scored] == [
        (str(i), user, text, None) for i, (user, text) in enumerate(rows)
    ]
    assert not any(_MARK in str(v) for row in [bad, *scored] for v in row.values())


def test_jsonl_fields_of_one_scalar_type_become_columns_to_join_back_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field that changes type, holds an object or a list, outgrows 64 bits, or is named like
    the output's own columns stays in ``fields``; a null or a missing field is a null cell."""
    lines = [
        {
            "id": 1,
            "user": "ann",
            "ok": True,
            "at": 1.5,
            "ref": 7,
            "meta": {},
            "big": 1,
            "text": "a",
        },
        {"id": 2, "user": None, "ok": False, "at": 2.0, "ref": "B-7", "emotion": "x", "text": "b"},
        {"id": 3, "at": -0.5, "fields": 1, "big": 2**64, "meta": [], "text": None},
    ]
    source = tmp_path / "turns.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines) + "[1]\n", "utf-8")
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)

    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    scored = pq.read_table(output)
    assert scored.schema.names[:6] == ["id", "user", "ok", "at", "fields", "text"]
    assert [str(t) for t in scored.schema.types[:4]] == ["int64", "string", "bool", "double"]
    rows = scored.to_pylist()
    assert [(r["id"], r["user"], r["ok"], r["at"], r["error"]) for r in rows] == [
        (1, "ann", True, 1.5, None),
        (2, None, False, 2.0, None),
        (3, None, None, -0.5, "line 3: text is null"),
        (None, None, None, None, "line 4: not a JSON object"),
    ]
    assert [r["fields"] and json.loads(r["fields"]) for r in rows] == [
        {"ref": 7, "meta": {}, "big": 1},
        {"ref": "B-7", "emotion": "x"},
        {"fields": 1, "big": 2**64, "meta": []},
        None,
    ]


def test_a_csv_without_a_header_does_not_put_its_first_row_on_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its first row is read as the header, and the missing-column error names the columns
    redacted and cut as the log would keep them."""
    source = tmp_path / "turns.csv"
    source.write_text(
        "my password is hunt3r!Xq and card 4111 1111 1111 1111 expires soon\nhello\n",
        encoding="utf-8",
    )
    argv = ["score", "--input", str(source), "--output", str(tmp_path / "scored.parquet")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "no column 'text'" in err
    assert "hunt3r" not in err and "4111" not in err and "expires soon" not in err


def test_a_jsonl_line_nested_deeper_than_json_reads_is_an_error_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "turns.jsonl"
    source.write_text(
        '{"text": "first"}\n' + "[" * 200_000 + '\n{"text": "last"}\n', encoding="utf-8"
    )
    output = tmp_path / "scored.parquet"
    _scripted(monkeypatch)
    assert main(["score", "--input", str(source), "--output", str(output)]) == 0
    rows = pq.read_table(output).to_pylist()
    assert [r["emotion"] for r in rows] == ["joy", None, "joy"]
    assert rows[1]["error"].startswith("line 2: ")
