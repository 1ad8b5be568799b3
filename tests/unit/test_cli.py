"""The command line: what a user types, what they read back."""

import io
import itertools
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jeffrey_affect import EMOTIONS, AffectClassifier, AffectConfig, AffectResult
from jeffrey_affect.cli import STDIN_BATCH, _stdin_batches, main
from tests.helpers import PATIENCE_S, FakeEncoder, log_lines, made_result


def test_classify_without_texts_says_how_to_give_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify"]) == 2
    assert "--stdin" in capsys.readouterr().err


def test_classify_with_texts_and_stdin_refuses_rather_than_dropping_the_texts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["classify", "--stdin", "my dog died"]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_class_prior_that_is_neither_a_name_nor_weights_names_what_is_accepted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in ("bogus", "[1, 2]", "{}"):
        with pytest.raises(SystemExit) as exit_:
            main(["eval", "--class-prior", bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "not tempered, uniform, train or a JSON object of weights" in err, err


def test_help_reads_as_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "``" not in capsys.readouterr().out


class Flushed(io.StringIO):
    """A stdout that notes how many lines were out at each flush, for a test to wait on."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[int] = []
        self._changed = threading.Condition()

    def flush(self) -> None:
        with self._changed:
            self.flushed.append(self.getvalue().count("\n"))
            self._changed.notify_all()

    def wait_for(self, lines: int) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: bool(self.flushed) and self.flushed[-1] >= lines, PATIENCE_S
            )


@pytest.fixture
def made(
    encoder: FakeEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[AffectClassifier]:
    """The classifiers the command makes, on the fake encoder and logging under tmp_path."""
    classifiers: list[AffectClassifier] = []

    def make(config: AffectConfig) -> AffectClassifier:
        classifiers.append(AffectClassifier(config, encoder=encoder))
        return classifiers[-1]

    monkeypatch.setenv("JEFFREY_AFFECT_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr("jeffrey_affect.cli.AffectClassifier", make)
    return classifiers


def logged(made: list[AffectClassifier], tmp_path: Path) -> list[tuple[int, str]]:
    """Each log line's batch_size and text, once the command's classifier has written them."""
    for clf in made:
        clf.close()
    return [(line["batch_size"], line["text"]) for line in log_lines(tmp_path / "logs")]


def test_classify_stdin_answers_a_line_before_the_next_arrives(
    made: list[AffectClassifier], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read, write = os.pipe()
    stdout = Flushed()
    exits: list[int] = []
    with os.fdopen(read, encoding="utf-8") as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        monkeypatch.setattr("sys.stdout", stdout)
        command = threading.Thread(target=lambda: exits.append(main(["classify", "--stdin"])))
        command.start()
        try:
            os.write(write, "hello 😡\n".encode())
            answered = stdout.wait_for(1)  # with the pipe still open
            os.write(write, b"where is my order?\n\nthanks!\n")  # one write: waiting together
        finally:
            os.close(write)
            command.join(PATIENCE_S)
    assert answered, "the first line was not answered until the input ended"
    assert exits == [0]
    assert stdout.flushed == [1, 4]
    assert all(json.loads(line)["emotion"] in EMOTIONS for line in stdout.getvalue().splitlines())
    assert logged(made, tmp_path) == [
        (1, "hello 😡"),
        (3, "where is my order?"),
        (3, ""),
        (3, "thanks!"),
    ]


def test_classify_stdin_takes_what_is_waiting_in_batches_each_printed_at_once(
    made: list[AffectClassifier], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    turns = [f"my order {i} is late again" for i in range(STDIN_BATCH + 3)]
    stdout = Flushed()
    data = "".join(f"{turn}\n" for turn in turns).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    monkeypatch.setattr("sys.stdout", stdout)

    assert main(["classify", "--stdin"]) == 0

    assert stdout.flushed == [STDIN_BATCH, STDIN_BATCH + 3]
    assert logged(made, tmp_path) == [
        *((STDIN_BATCH, t) for t in turns[:STDIN_BATCH]),
        *((3, t) for t in turns[STDIN_BATCH:]),
    ]


def test_classify_arguments_are_one_batch(
    made: list[AffectClassifier], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["classify", "hello", "", "", "where is my order"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["fallback_reason"] for r in results[1:3]] == ["empty text"] * 2
    assert logged(made, tmp_path) == [(4, "hello"), (4, ""), (4, ""), (4, "where is my order")]


class Multilingual(AffectClassifier):
    """Tells a language on turns with text, as the router does, without loading a model."""

    def __init__(self, config: AffectConfig) -> None:
        super().__init__(config, encoder=FakeEncoder())

    def classify(self, text: str) -> AffectResult:
        return made_result("joy", language="fr") if text else made_result("neutral", 0.5)

    def classify_batch(self, texts: Sequence[str], *, record: bool = True) -> list[AffectResult]:
        return [self.classify(t) for t in texts]


def test_classify_and_demo_show_each_turns_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JEFFREY_AFFECT_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr("jeffrey_affect.cli.AffectClassifier", Multilingual)
    assert main(["classify", "merci", ""]) == 0
    assert [json.loads(line)["language"] for line in capsys.readouterr().out.splitlines()] == [
        "fr",
        None,
    ]
    assert main(["demo"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split()[3] for row in rows] == ["fr"] * (len(rows) - 1) + ["unknown"]


class Chunked(io.BufferedIOBase):
    """A stream whose every read returns the next of the given chunks, as a pipe may."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = iter(chunks)

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1, /) -> bytes:
        return next(self._chunks, b"")


@given(
    lines=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\n"))),
    tail=st.text(st.characters(codec="utf-8", exclude_characters="\n")),
    cuts=st.lists(st.integers(1, 7), min_size=1),
)
def test_stdin_lines_come_out_whole_however_reads_cut_them(
    lines: list[str], tail: str, cuts: list[int]
) -> None:
    data = "".join(f"{line}\n" for line in lines).encode() + tail.encode()
    chunks, start = [], 0
    for size in itertools.cycle(cuts):  # mid-line and mid-character alike
        if start >= len(data):
            break
        chunks.append(data[start : start + size])
        start += size
    stream = io.TextIOWrapper(Chunked(chunks), encoding="utf-8")

    batches = list(_stdin_batches(stream))

    assert [line for batch in batches for line in batch] == [*lines, *([tail] if tail else [])]
    assert all(0 < len(batch) <= STDIN_BATCH for batch in batches)
