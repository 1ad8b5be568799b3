"""The development defaults of the command line, in a checkout and in an installed package.

``train``, ``eval`` and ``validate`` default to the corpora beside a source checkout and to its
chat sets in ``tests/data``; an installed package has neither, so there the options are required
and argparse says so before any model loads.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jeffrey_affect._validate import default_chat_sets
from jeffrey_affect.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package alone in a directory, as a wheel puts it in site-packages: no pyproject.toml,
    no tests/ beside it."""
    site = tmp_path_factory.mktemp("site-packages")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "jeffrey_affect", site / "jeffrey_affect", ignore=ignore)
    return site


def run_installed(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``jeffrey-affect ARGS`` from the copy; the first stderr line names the cli module run."""
    code = (
        "import sys, jeffrey_affect.cli as cli; print(cli.__file__, file=sys.stderr); "
        "sys.exit(cli.main(sys.argv[1:]))"
    )
    env = os.environ | {"PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr.splitlines()[0] == str(site / "jeffrey_affect" / "cli.py")
    return done


@pytest.mark.parametrize(
    ("command", "required"),
    [
        ("validate", "--data, --chat-set/--smoke-set"),
        ("eval", "--data"),
        ("train", "--data, --xed, --brighter"),
    ],
)
def test_installed_commands_require_what_only_a_checkout_has(
    installed: Path, command: str, required: str
) -> None:
    done = run_installed(installed, command)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"jeffrey-affect {command}: error: the following arguments are required: {required}"
    )


def test_installed_validate_help_says_where_the_chat_sets_are(installed: Path) -> None:
    done = run_installed(installed, "validate", "--help")
    assert done.returncode == 0
    assert "an installed package does not have" in " ".join(done.stdout.split())


def test_a_checkout_defaults_to_its_corpora_and_chat_sets() -> None:
    args = build_parser().parse_args(["validate"])
    assert args.data == ROOT.parent / "shared" / "goemotions"
    assert args.chat_set is None  # _cmd_validate then takes default_chat_sets()
    assert [p.parent for p in default_chat_sets()] == [ROOT / "tests" / "data"] * 2
    train = build_parser().parse_args(["train"])
    assert (train.data, train.xed) == (
        ROOT.parent / "shared" / "goemotions",
        args.data.parent / "xed",
    )
