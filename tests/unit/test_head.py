"""The linear head at run time: rows scored apart however they are batched, every token counted,
and no sklearn, scipy or joblib in a process that builds a classifier and scores."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jeffrey_affect._artifacts import ArtifactSource, bundled_artifacts_dir, load_artifacts
from jeffrey_affect._config import DEFAULT_ENCODER
from jeffrey_affect._encoders.base import local_model_dir
from jeffrey_affect._head import LinearHead, load_tokenizer, tokenize
from tests.helpers import REPO, TRICKY_TEXTS, FakeEncoder


@pytest.fixture(scope="module")
def head() -> LinearHead:
    """The committed head: it loads without a model."""
    source = ArtifactSource.read(bundled_artifacts_dir(), DEFAULT_ENCODER)
    artifacts = load_artifacts(source, FakeEncoder())
    assert artifacts.head is not None, artifacts.head_problem
    return artifacts.head


@settings(max_examples=200)
@given(texts=st.lists(TRICKY_TEXTS | st.sampled_from(["", "ugh", "so so happy"]), max_size=6))
@example(["", ""])
@example(["so", "happy", "so happy"])
def test_a_batch_scores_each_text_as_it_scores_it_alone(head: LinearHead, texts: list[str]) -> None:
    """No token pair spans two texts."""
    embeddings = np.random.default_rng(len(texts)).normal(size=(len(texts), head.dimension))
    batch = head.logits(texts, embeddings)
    assert batch.shape == (len(texts), 8)
    for i, text in enumerate(texts):
        alone = head.logits([text], embeddings[i : i + 1])[0]
        np.testing.assert_allclose(batch[i], alone, rtol=1e-12, atol=1e-12)


def test_an_emoji_the_tokenizer_cannot_read_stands_for_itself(head: LinearHead) -> None:
    """MiniLM's tokenizer reads every emoji as [UNK]; the head keeps them apart."""
    assert tokenize(head.tokenizer, ["so done 😡😡", "🙂"]) == [["so", "done", "😡", "😡"], ["🙂"]]
    assert {"😡", "🙂", "😭"} <= set(head.spec.vocabulary)
    angry, smiling = head.logits(["😡", "🙂"], np.zeros((2, head.dimension)))
    assert not np.allclose(angry, smiling)


def test_the_head_tokenizer_cuts_and_pads_nothing() -> None:
    """The model's own tokenizer.json pads and cuts at 128 tokens: a head fitted through it would
    learn [PAD] n-grams and miss the end of a long turn."""
    tokenizer = load_tokenizer((local_model_dir(DEFAULT_ENCODER) / "tokenizer.json").read_text())
    assert tokenize(tokenizer, ["hi there", "中" * 300]) == [["hi", "there"], ["中"] * 300]


RUNTIME_IMPORTS = """
import sys

import numpy as np

from jeffrey_affect import AffectClassifier, AffectConfig


class FakeEncoder:
    name = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = 384

    def encode(self, texts):
        rows = np.random.default_rng(0).normal(size=(len(texts), self.dimension))
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


clf = AffectClassifier(AffectConfig(log_enabled=False), encoder=FakeEncoder())
assert clf.artifacts.head is not None, clf.artifacts.head_problem
assert clf.classify("the parcel never came and I'm furious").route == "linear_head"
print(sorted(m for m in ("sklearn", "scipy", "joblib") if m in sys.modules))
"""


def test_building_and_scoring_import_neither_sklearn_nor_scipy_nor_joblib() -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUNTIME_IMPORTS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
