"""Archive scoring on a real local Ray cluster: row for row what ``classify_batch`` gives, even
when a worker dies mid-job, and the ``score`` command's two engines write the same rows.

"Identical" is exact: equal floats, not close ones. Both sides classify the same slices of
``BATCH_ROWS`` rows with the cache off, which is what ``score_dataset`` promises; the int8
encoder would move a turn's scores slightly in another slice.
"""

import codecs
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="archive scoring needs the [ray] extra")
pa = pytest.importorskip("pyarrow", reason="archive scoring needs the [ray] extra")
pq = pytest.importorskip("pyarrow.parquet", reason="archive scoring needs the [ray] extra")

from jeffrey_affect import EMOTIONS, AffectConfig  # noqa: E402
from jeffrey_affect._data import CHAT_TRAIN  # noqa: E402
from jeffrey_affect.batch import (  # noqa: E402
    BATCH_ROWS,
    _Scorer,
    _Table,
    archive_classifier,
    score_dataset,
)
from jeffrey_affect.cli import main  # noqa: E402
from tests.integration._ray_fault import MARKER  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ROWS = 2000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A local Ray cluster whose first ``classify_batch`` kills its worker; the marker file
    names the process that died. Started in a directory of its own, as a user starts one where
    their files are: the workers resolve relative paths there."""
    marker = tmp_path_factory.mktemp("fault") / "crashed"
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            runtime_env={
                "env_vars": {"PYTHONPATH": path, MARKER: str(marker)},
                "worker_process_setup_hook": (
                    "tests.integration._ray_fault.crash_first_classify_batch"
                ),
            },
        )
        yield marker
        ray.shutdown()


class _ThreadProbe(_Scorer):
    """A worker's scorer that answers with its encoder's ONNX Runtime thread count."""

    def __call__(self, batch: "pa.Table") -> "pa.Table":
        options = self._clf.encoder._session.get_session_options()  # type: ignore[attr-defined]
        return pa.table({"threads": [options.intra_op_num_threads] * batch.num_rows})


def test_each_worker_runs_onnx_runtime_on_the_cpus_ray_gives_it(cluster: Path) -> None:
    """Two workers on two cores, each with ONNX Runtime's default of a thread per core, would
    run four threads on two cores."""
    probed = ray.data.from_items([{"text": "hello"}] * 4).map_batches(
        _ThreadProbe,
        fn_constructor_args=(AffectConfig(), _Table("text")),
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=1),
    )
    assert {row["threads"] for row in probed.take_all()} == {1}


def _turns() -> list[object]:
    """Chat turns from the training file, with a null and numbers among them."""
    lines = CHAT_TRAIN.read_text(encoding="utf-8").splitlines()
    turns: list[object] = [line.split("\t", 1)[1] for line in lines[:ROWS]]
    turns[3], turns[BATCH_ROWS + 1], turns[-1] = None, 42, 3.5
    return turns


def _expected(turns: list[object]) -> list[tuple[str, float, list[float], str] | None]:
    """``classify_batch`` over each slice of BATCH_ROWS rows' strings, in this process."""
    clf = archive_classifier()
    out: list[tuple[str, float, list[float], str] | None] = []
    for start in range(0, len(turns), BATCH_ROWS):
        chunk = turns[start : start + BATCH_ROWS]
        results = iter(clf.classify_batch([t for t in chunk if isinstance(t, str)]))
        for turn in chunk:
            if not isinstance(turn, str):
                out.append(None)
                continue
            r = next(results)
            out.append((r.emotion, r.confidence, [r.scores[e] for e in EMOTIONS], r.route))
    return out


def test_ray_scores_every_row_as_classify_batch_does_though_a_worker_dies(
    cluster: Path,
) -> None:
    turns = _turns()
    # uneven blocks, so that only score_dataset's own slicing can line the batches up
    ds = ray.data.from_items(
        [{"id": i, "text": t} for i, t in enumerate(turns)], override_num_blocks=7
    )
    rows = score_dataset(ds, workers=1).take_all()

    assert cluster.is_file(), "no worker died: the fault was not injected"
    assert int(cluster.read_text()) != os.getpid()
    assert [row["id"] for row in rows] == list(range(ROWS))  # complete, in order
    got = [
        None
        if row["error"] is not None
        else (row["emotion"], row["confidence"], [row["scores"][e] for e in EMOTIONS], row["route"])
        for row in rows
    ]
    assert got == _expected(turns)
    errors = {row["id"]: row["error"] for row in rows if row["error"] is not None}
    assert errors == {
        3: "text is null",
        BATCH_ROWS + 1: "text is int, not a string",
        ROWS - 1: "text is float, not a string",
    }
    assert all(rows[i]["text"] is None and rows[i]["emotion"] is None for i in errors)


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_that_would_take_every_cpu_are_refused_before_the_job(
    cluster: Path, workers: int
) -> None:
    """Each worker holds a CPU and reading the input needs one more: with none left, Ray would
    wait forever, logging only that its tasks are backpressured."""
    ds = ray.data.from_items([{"text": "hello"}])
    said = f"workers={workers} needs {workers + 1} CPUs, .* and the cluster has 2: give fewer"
    with pytest.raises(ValueError, match=said):
        score_dataset(ds, workers=workers)


def test_the_score_command_writes_the_same_rows_on_either_engine(
    cluster: Path, tmp_path: Path
) -> None:
    turns = [t if isinstance(t, str) else None for t in _turns()[: 3 * BATCH_ROWS - 7]]
    source = tmp_path / "turns.parquet"
    table = pa.table({"row": list(range(len(turns))), "text": turns})
    pq.write_table(table, source, row_group_size=100)  # reader batches unlike the slices

    for engine in ("local", "ray"):
        argv = ["score", "--input", str(source), "--output", str(tmp_path / engine)]
        assert main([*argv, "--engine", engine]) == 0

    local, on_ray = pq.read_table(tmp_path / "local"), pq.read_table(tmp_path / "ray")
    assert local.column_names == ["row", "text", *OUTPUTS]
    assert local.column("row").to_pylist() == list(range(len(turns)))  # one file, in order
    # Ray writes a directory of files whose names need not follow the input's order (seen with
    # a retried slice, and with a 3-row input split into 3 files), so rows are compared by input
    # position.
    assert on_ray.select(local.column_names).sort_by("row").equals(local)
    errors = [(i, e) for i, e in enumerate(local.column("error").to_pylist()) if e]
    assert errors == [(3, "text is null"), (BATCH_ROWS + 1, "text is null")]


OUTPUTS = ["emotion", "confidence", "scores", "route", "error"]


def test_jsonl_rows_of_any_type_are_scored_or_explained(cluster: Path, tmp_path: Path) -> None:
    source = tmp_path / "turns.jsonl"
    records = [
        {"id": 1, "text": "the parcel never came and nobody answers, I'm furious"},
        {"id": 2, "text": 17},
        {"id": 3},
        {"id": 4, "text": "thank you, that fixed it!"},
    ]
    half_an_emoji = r'{"id": 5, "text": "half \ud83d"}'  # valid JSON, but no UTF-8 holds it
    lines = [json.dumps(r) for r in records[:2]] + ["", "[1, 2]", "{not json", half_an_emoji]
    source.write_text("\n".join(lines + [json.dumps(r) for r in records[2:]]) + "\n")

    for engine in ("local", "ray"):
        argv = ["score", "--input", str(source), "--output", str(tmp_path / engine)]
        assert main([*argv, "--engine", engine]) == 0
    local, on_ray = pq.read_table(tmp_path / "local"), pq.read_table(tmp_path / "ray")

    # Ray's directory holds every row once, in files whose names need not follow the input.
    assert sorted(map(repr, on_ray.to_pylist())) == sorted(map(repr, local.to_pylist()))
    assert local.column_names == ["id", "fields", "text", *OUTPUTS]
    rows = local.to_pylist()
    surrogate = r"a lone surrogate escape (half of a pair, such as \ud83d alone), which no UTF-8"
    assert [(r["id"], r["fields"], r["error"]) for r in rows] == [
        (1, "{}", None),
        (2, "{}", "line 2: text is int, not a string"),  # line 3 is blank
        (None, None, "line 4: not a JSON object"),
        (None, None, "line 5: not a JSON object"),
        (None, None, f"line 6: {surrogate} can hold"),
        (3, "{}", "line 7: text is null"),
        (4, "{}", None),
    ]
    assert [r["emotion"] for r in rows] == ["anger", None, None, None, None, None, "joy"]


def test_jsonl_lines_end_at_a_newline_alone_on_either_engine(cluster: Path, tmp_path: Path) -> None:
    """``json.dumps(ensure_ascii=False)`` writes U+2028, U+2029 and U+0085 raw, and
    ``str.splitlines`` would break a line at each. A byte that is not UTF-8 spoils its line
    alone. A byte order mark before the first line is not part of it."""
    texts = ["one\u2028two, thanks!", "one\u2029two", "caf\u00e9\u0085ugh", "plain"]
    source = tmp_path / "turns.jsonl"
    with source.open("wb") as f:
        f.write(codecs.BOM_UTF8)
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False).encode() + b"\n")
        f.write(b'{"id": 4, "text": "caf\xe9"}\r\n{"id": 5, "text": "ok"}\r\n')

    for engine in ("local", "ray"):
        argv = ["score", "--input", str(source), "--output", str(tmp_path / engine)]
        assert main([*argv, "--engine", engine]) == 0
    local, on_ray = pq.read_table(tmp_path / "local"), pq.read_table(tmp_path / "ray")

    # Ray's directory holds every row once, in files whose names need not follow the input.
    assert sorted(map(repr, on_ray.to_pylist())) == sorted(map(repr, local.to_pylist()))
    assert [(r["id"], r["text"], r["error"]) for r in local.to_pylist()] == [
        *((i, text, None) for i, text in enumerate(texts)),
        (None, None, "line 5: not UTF-8"),
        (5, "ok", None),
    ]


def test_the_readme_snippet_scores_a_parquet_folder(cluster: Path) -> None:
    """Fenced ``py``, not ``python``: the Quick start has no Ray, so this test runs it instead,
    in the directory the cluster started in."""
    snippets = re.findall(r"```py\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    (snippet,) = (s for s in snippets if "score_dataset" in s)
    here = Path.cwd()
    (here / "turns").mkdir()
    turns = ["where is my refund??", "love it, thank you", None]
    pq.write_table(pa.table({"text": turns}), here / "turns" / "part-0.parquet")

    exec(snippet, {})  # noqa: S102  (the README's own code)

    scored = pq.read_table(here / "scored").to_pylist()
    assert [r["text"] for r in scored] == turns
    assert [r["error"] is None for r in scored] == [True, True, False]


def test_csv_text_is_read_as_text(cluster: Path, tmp_path: Path) -> None:
    source = tmp_path / "turns.csv"
    source.write_text('id,text\n1,"ugh, it broke AGAIN"\n2,42\n3,\n')
    for engine in ("local", "ray"):
        argv = ["score", "--input", str(source), "--output", str(tmp_path / engine)]
        assert main([*argv, "--engine", engine]) == 0
    local, on_ray = pq.read_table(tmp_path / "local"), pq.read_table(tmp_path / "ray")

    assert on_ray.sort_by("id").equals(local)  # by input row: Ray's files are in no set order
    rows = local.to_pylist()
    assert [(r["id"], r["text"], r["error"]) for r in rows] == [
        ("1", "ugh, it broke AGAIN", None),  # every column is text, the id too
        ("2", "42", None),  # CSV has no numbers, only text that looks like one
        ("3", None, "line 4: text is empty"),  # CSV's only way to write a missing turn
    ]
    assert rows[1]["emotion"] is not None and rows[2]["emotion"] is None


def test_a_csv_whose_rows_cannot_all_be_read_scores_the_same_on_either_engine(
    cluster: Path, tmp_path: Path
) -> None:
    """Every kind of row that cannot be read, each with its own error, among turns in several
    slices; a byte order mark, CRLF line ends, and a quoted text over three lines."""
    turns = [t for t in _turns() if isinstance(t, str)][: BATCH_ROWS + 40]
    quoted = [t.replace('"', '""') for t in turns]
    broken = {
        5: '5,"where is my order',  # a quote left open, which Arrow let swallow what followed
        BATCH_ROWS - 1: '255,"fine" thanks',  # a stray quote
        BATCH_ROWS: "256,one,two",  # a field too many
        BATCH_ROWS + 3: "259,",  # an empty text
        BATCH_ROWS + 7: '263,"line one\r\nline two\r\nline three"',  # valid: one row
        13: '13,"caf\udce9 au lait"',  # a latin-1 byte, as surrogateescape writes it below
    }
    lines = [broken.get(i, f'{i},"{text}"') for i, text in enumerate(quoted)]
    text = "id,text\r\n" + "\r\n".join(lines) + "\r\n"
    source = tmp_path / "turns.csv"
    source.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8", "surrogateescape"))

    for engine in ("local", "ray"):
        argv = ["score", "--input", str(source), "--output", str(tmp_path / engine)]
        assert main([*argv, "--engine", engine]) == 0
    local, on_ray = pq.read_table(tmp_path / "local"), pq.read_table(tmp_path / "ray")

    # Ray's directory holds every row once, in files whose names need not follow the input.
    assert sorted(map(repr, on_ray.to_pylist())) == sorted(map(repr, local.to_pylist()))
    rows = local.to_pylist()
    assert len(rows) == len(turns)
    errors = {i: r["error"] for i, r in enumerate(rows) if r["error"] is not None}
    assert errors == {
        5: "line 7: a quote that does not close at the end of a field: left open, or stray",
        13: "line 15: column text is not UTF-8",
        BATCH_ROWS - 1: f"line {BATCH_ROWS + 1}: a quote that does not close at the end of a "
        "field: left open, or stray",
        BATCH_ROWS: f"line {BATCH_ROWS + 2}: the header has 2 fields, this row 3",
        BATCH_ROWS + 3: f"line {BATCH_ROWS + 5}: text is empty",
    }
    assert rows[BATCH_ROWS + 7]["text"] == "line one\r\nline two\r\nline three"
    assert rows[BATCH_ROWS + 8]["error"] is None
    kept = [(r["id"], r["text"]) for i, r in enumerate(rows) if i not in errors]
    assert kept[:5] == [(str(i), t) for i, t in enumerate(turns[:5])]
    assert kept[-1] == (str(len(turns) - 1), turns[-1])


@pytest.mark.parametrize(
    "columns", [{"body": ["hi"]}, {"text": ["hi"], "route": ["regex"]}], ids=["no text", "route"]
)
def test_an_input_error_is_the_same_line_on_either_engine(
    cluster: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], columns: dict[str, list[str]]
) -> None:
    """Checked on the driver: from a Ray worker it would be a traceback of seventy lines."""
    source = tmp_path / "turns.parquet"
    pq.write_table(pa.table(columns), source)
    said = {}
    for engine in ("local", "ray"):
        argv = ["score", "--input", str(source), "--output", str(tmp_path / engine)]
        assert main([*argv, "--engine", engine]) == 1
        said[engine] = capsys.readouterr().err.strip().splitlines()
    assert len(said["ray"]) == 1  # the local engine's progress bar comes before its line
    assert said["ray"][0] == said["local"][-1]
    assert said["ray"][0].startswith("score: ")

    rows = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    with pytest.raises(ValueError, match=re.escape(said["ray"][0].removeprefix("score: "))):
        score_dataset(ray.data.from_items(rows))
