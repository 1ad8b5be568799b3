"""The README's configuration table says what ``AffectConfig`` has: every field, each default."""

import re
from pathlib import Path

import pytest

from jeffrey_affect import AffectConfig

README = Path(__file__).resolve().parents[2] / "README.md"
UNSET = {"None", "bundled", "off", "built-in"}
"""How the table words a default of None: it says what None means for that field."""


def configuration_table() -> dict[str, str]:
    """Each field named in the table, with its default cell; a row may name several fields."""
    section = README.read_text(encoding="utf-8").split("### Configuration", 1)[1]
    rows = re.findall(r"^\| (.+?) \| (.+?) \| .+ \|$", section.split("\n#", 1)[0], flags=re.M)
    assert rows[0] == ("field", "default"), "the table's header changed"
    table: dict[str, str] = {}
    for names, defaults in rows[2:]:  # after the header and the --- row
        fields = re.findall(r"`(\w+)`", names)
        values = [v.strip().strip("`") for v in defaults.split(",")]
        assert len(values) in (1, len(fields)), f"row {names!r} has defaults {defaults!r}"
        table.update(zip(fields, values * len(fields) if len(values) == 1 else values, strict=True))
    return table


def value(cell: str) -> object:
    """A default as the table writes it, read as Python."""
    if cell in UNSET:
        return None
    if cell in ("True", "False"):
        return cell == "True"
    for number in (int, float):
        try:
            return number(cell)
        except ValueError:
            pass
    return cell


TABLE = configuration_table()


def test_the_table_names_every_field_and_only_fields() -> None:
    assert set(TABLE) == set(AffectConfig.model_fields)


@pytest.mark.parametrize("field", sorted(AffectConfig.model_fields))
def test_the_table_states_the_default(field: str) -> None:
    default = AffectConfig.model_fields[field].default
    stated = value(TABLE[field])
    assert (Path(stated) if isinstance(default, Path) else stated) == default
