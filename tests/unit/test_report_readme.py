"""The README's report excerpts are what the commands print on the logs its generator writes."""

import re
import shlex
from pathlib import Path

import pytest

from jeffrey_affect.cli import main
from tests.helpers import REPO
from tests.synthetic_logs import write_logs

SECTION = (
    (REPO / "README.md")
    .read_text(encoding="utf-8")
    .split("### Reading the report during an incident\n")[1]
)
EXCERPTS = re.findall(r"```text\n(\$ jeffrey-affect report .*?)```", SECTION, flags=re.S)


def test_the_section_generates_its_logs_as_the_test_does() -> None:
    assert "python tests/synthetic_logs.py logs/fleet\n" in SECTION
    assert len(EXCERPTS) >= 4


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    write_logs(root / "logs" / "fleet")
    return root


@pytest.mark.parametrize("excerpt", EXCERPTS, ids=lambda e: e.split("\n")[0][2:60])
def test_an_excerpt_is_what_its_command_prints(
    excerpt: str, fleet: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command, *shown = excerpt.rstrip("\n").split("\n")
    argv, _, comment = command.removeprefix("$ ").partition("#")
    expected = int(comment.split()[-1]) if comment else 0
    monkeypatch.chdir(fleet)

    assert main(shlex.split(argv)[1:]) == expected
    printed = [line.rstrip() for line in capsys.readouterr().out.split("\n")]
    at = 0
    for line in shown:
        if line == "...":
            continue
        assert line in printed[at:], f"not printed (in this order): {line!r}"
        at = printed.index(line, at) + 1
