"""The README's Python snippets and the framework-free example run as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

SNIPPETS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)


def run(args: list[str], cwd: Path) -> str:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_readme_has_the_snippets() -> None:
    assert len(SNIPPETS) >= 4


@pytest.mark.parametrize("snippet", SNIPPETS, ids=lambda s: s.splitlines()[0][:50])
def test_readme_snippet_runs(snippet: str, tmp_path: Path) -> None:
    out = run(["-c", snippet], cwd=tmp_path)
    assert out.strip(), "every snippet prints what it shows"


@pytest.mark.parametrize("script_name", ["support_conversation.txt", "conversation_fr.txt"])
def test_tone_chatbot_script_changes_tone_with_the_user(tmp_path: Path, script_name: str) -> None:
    script = REPO / "examples" / "data" / script_name
    out = run([str(REPO / "examples" / "tone_chatbot.py"), "--script", str(script)], cwd=tmp_path)
    turns = script.read_text().splitlines()
    tones = re.findall(r"^     tone: (\S+)$", out, flags=re.M)
    emotions = re.findall(r"^     emotion: (\w+)", out, flags=re.M)
    assert len(tones) == len(emotions) == len(out.split("bot> ")) - 1 == len(turns)
    assert len(set(tones)) >= 3
    assert tones[3] == "de-escalate"  # "I'm furious. Fix it or refund me NOW", after two complaints
    assert emotions[-1] == "joy" and tones[-1] == "upbeat"
