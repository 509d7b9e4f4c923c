"""The trade-off tables (README, docs/tradeoff.md) are what benchmarks/tradeoff.py
computes from the runs' records in docs/tradeoff/records, and every record names
the command that trained it."""

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

RECORDS = REPO / "docs" / "tradeoff" / "records"
RUN_ROW = re.compile(r"^\| ((?:esc10|ravdess)-fold\S+) \|")


def _cells(line):
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _run_name(configuration):
    """The grid's folder (scripts/tradeoff_grid.sh) for a row "t_m = T, W = W"."""
    tm, width = re.findall(r"\d+", configuration)
    return f"esc10-fold1-4x{tm}-{width}"


def _tradeoff(*folders):
    """tradeoff.py's table rows by run name, and its printed commands."""
    runs = sorted(str(path) for folder in folders for path in folder.iterdir())
    command = [sys.executable, "benchmarks/tradeoff.py", *runs, "--epochs", "60"]
    output = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in output.splitlines():
        if RUN_ROW.match(line):
            cells = _cells(line)
            rows[cells[0]] = cells
    return rows, output


@pytest.fixture(scope="module")
def computed():
    return _tradeoff(RECORDS)


def _table(document, columns=4):
    """Rows of a student table: (configuration, [MACs,] alone, distilled) cells."""
    rows = []
    for line in (REPO / document).read_text().splitlines():
        cells = _cells(line)
        if len(cells) == columns and re.fullmatch(r"t_m = \d+, W = \d+", cells[0]):
            rows.append(cells)
    return rows


@pytest.mark.parametrize("document", ["README.md", "docs/tradeoff.md"])
def test_student_table_is_computed_from_the_records(computed, document):
    rows, _ = computed
    table = _table(document)
    assert table, f"{document} has no trade-off table"
    for configuration, macs, alone, taught in table:
        name = _run_name(configuration)
        for run, cell in ((name, alone), (name + "-taught", taught)):
            if run not in rows:
                assert cell.startswith("-"), f"{document}: {run} has no record"
                continue
            row = rows[run]
            assert macs == row[2], f"{document}: {configuration}'s multiply-adds"
            assert row[4] == "60", f"{run} is short of 60 epochs"
            assert cell == row[6], f"{document}: {run} scores {row[6]} (mean of 5)"


def test_every_record_names_its_command(computed):
    rows, output = computed
    assert len(rows) == len(list(RECORDS.iterdir()))
    for run in rows:
        assert re.search(rf"^{run}: erann train .*--fold 1", output, re.M), run


def test_the_4s_teacher_table_is_computed_from_its_records():
    rows, _ = _tradeoff(RECORDS, RECORDS.parent / "teacher-4s")
    table = _table("docs/tradeoff.md", columns=3)
    assert len(table) == 3
    for configuration, alone, taught in table:
        name = _run_name(configuration)
        assert (alone, taught) == (rows[name][6], rows[name + "-taught"][6]), configuration
