"""The two LangChain examples run offline and print what they promise."""

import os
import re
import subprocess
import sys
from pathlib import Path

from jeffrey_affect import EMOTIONS, TonePolicy
from tests.helpers import REPO

EXAMPLES = REPO / "examples"


def run(name: str, tmp_path: Path) -> dict[str, str]:
    """The example's ``key: value`` lines, run from tmp_path, where it must leave no log."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == [], "the example wrote into its working directory"
    return dict(re.findall(r"^(\w+): (.+)$", done.stdout, re.MULTILINE))


def assert_affect(line: str) -> None:
    found = re.fullmatch(r"(\w+) \(confidence ([\d.]+)(, \w+)?\)", line)
    assert found, line
    assert found.group(1) in EMOTIONS
    assert 0.0 <= float(found.group(2)) <= 1.0


def test_pipeline_example(tmp_path: Path) -> None:
    out = run("langchain_pipeline.py", tmp_path)

    policy = TonePolicy()
    tones = {getattr(policy, name).tone for name in [*EMOTIONS, "low_confidence", "escalation"]}
    assert_affect(out["emotion"])
    assert out["tone"] in tones
    assert out["reply"] == "Sorry about that. I've reissued the refund."


def test_agent_middleware_example(tmp_path: Path) -> None:
    out = run("agent_middleware.py", tmp_path)

    assert_affect(out["affect"])
    assert out["history"] == "2 turn(s)"  # rebuilt from the messages passed back
    assert out["reply"] == "It is on its way to you."
