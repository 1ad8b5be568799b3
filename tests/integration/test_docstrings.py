"""The public API's reference docs: every public class and method has a docstring, and every
Example in them runs as written, against the real model."""

import contextlib
import doctest
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import jeffrey_affect

PACKAGES: list[ModuleType] = [jeffrey_affect]
with contextlib.suppress(ImportError):  # the adapter is its own distribution
    import langchain_jeffrey_affect

    PACKAGES.append(langchain_jeffrey_affect)


def public_objects() -> Iterator[tuple[str, object]]:
    """Each name in a package's ``__all__`` that is a class or function, and the public methods
    and properties its classes define themselves (inherited ones are their base's to document)."""
    for package in PACKAGES:
        for name in package.__all__:
            obj = getattr(package, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants and type aliases: the module docstring covers them
            yield f"{package.__name__}.{name}", obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") or not (
                        inspect.isfunction(member) or isinstance(member, property | classmethod)
                    ):
                        continue
                    yield f"{package.__name__}.{name}.{attr}", getattr(obj, attr)


PUBLIC = dict(public_objects())
EXAMPLES = [
    test
    for name, obj in PUBLIC.items()
    for test in doctest.DocTestFinder(recurse=False).find(obj, name)
    if test.examples
]


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_class_and_method_has_a_docstring(name: str) -> None:
    assert inspect.getdoc(PUBLIC[name]), f"{name} has no docstring"


def test_the_api_shows_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda t: t.name)
def test_docstring_example_runs(
    example: doctest.DocTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # examples that log or write files do it here
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(example, out=report.append)
    assert runner.failures == 0, "".join(report)
