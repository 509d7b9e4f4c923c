"""The trade-off tables (README, docs/tradeoff.md) are what benchmarks/tradeoff.py
computes from the runs' records in docs/tradeoff/records, and every record names
the command that trained it; the longer-teaching and ensemble tables are what
benchmarks/compare_runs.py prints for the commands beside them."""

import re
import shlex
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


def _stdout(script, *args):
    """What a benchmarks/ script prints, run from the repository."""
    command = [sys.executable, script, *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout


def _tradeoff(*folders):
    """tradeoff.py's table rows by run name, and its printed commands."""
    runs = sorted(str(path) for folder in folders for path in folder.iterdir())
    output = _stdout("benchmarks/tradeoff.py", *runs, "--epochs", "60")
    rows = {}
    for line in output.splitlines():
        if RUN_ROW.match(line):
            cells = _cells(line)
            rows[cells[0]] = cells
    return rows, output


@pytest.fixture(scope="module")
def computed():
    return _tradeoff(RECORDS)


def _table(document, columns):
    """Rows of a table of students, one per configuration: its cells."""
    rows = []
    for line in (REPO / document).read_text().splitlines():
        cells = _cells(line)
        if len(cells) == columns and re.fullmatch(r"t_m = \d+, W = \d+", cells[0]):
            rows.append(cells)
    return rows


def _tables_headed(text, head):
    """The lines of each table whose header starts with `head`, in order: its
    header, rule and rows."""
    lines, tables = text.splitlines(), []
    for first in (i for i, line in enumerate(lines) if line.startswith(head)):
        end = next((i for i in range(first, len(lines)) if not lines[i].startswith("|")), None)
        tables.append(lines[first:end])
    return tables


def _table_headed(text, head):
    """The lines of the first table whose header starts with `head` ([] if none)."""
    return next(iter(_tables_headed(text, head)), [])


DATASETS = sorted({record.name.split("-fold")[0] for record in RECORDS.iterdir()})


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("document", ["README.md", "docs/tradeoff.md"])
def test_student_table_is_computed_from_the_records(computed, document, dataset):
    _, output = computed
    head = f"| student ({dataset},"
    table = _table_headed((REPO / document).read_text(), head)
    assert table, f"{document} has no {dataset} trade-off table"
    assert table == _table_headed(output, head), f"{document}: not what tradeoff.py prints"


def test_seed_table_is_computed_from_the_records(computed):
    _, output = computed
    table = _table_headed(output, "| seeds (")
    document = (REPO / "docs/tradeoff.md").read_text()
    assert table == _table_headed(document, "| seeds ("), "docs/tradeoff.md: seeds table"


def test_every_record_names_its_command_and_has_its_budget(computed):
    rows, output = computed
    assert len(rows) == len(list(RECORDS.iterdir()))
    for run, row in rows.items():
        assert row[4] == "60" or "teacher" in run, f"{run} is short of 60 epochs"
        fold = re.match(r"(?:esc10|ravdess)-fold(\d+)-", run).group(1)
        assert re.search(rf"^{run}: erann train .*--fold {fold}\b", output, re.M), run
        seed = re.search(r"-seed(\d+)$", run)  # other seeds than the grid's 0
        if seed:
            assert re.search(rf"^{run}: .* --seed {seed.group(1)}\b", output, re.M), run


def test_the_4s_teacher_table_is_computed_from_its_records():
    rows, _ = _tradeoff(RECORDS, RECORDS.parent / "teacher-4s")
    table = _table("docs/tradeoff.md", columns=3)
    assert len(table) == 3
    for configuration, alone, taught in table:
        name = _run_name(configuration)
        assert (alone, taught) == (rows[name][6], rows[name + "-taught"][6]), configuration


def _documented_commands(document, program):
    """The commands in `document`'s code blocks that run `program` (lines joined
    at backslashes), in order, as argv, without --png: the tables are their output."""
    text = (REPO / document).read_text().replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        if line.strip().startswith(program):
            argv = shlex.split(line)
            if "--png" in argv:
                del argv[argv.index("--png") : argv.index("--png") + 2]
            commands.append(argv)
    return commands


def test_the_run_comparison_tables_are_computed_from_their_records():
    """Teaching longer, and teaching by an ensemble: each table is what the
    compare_runs.py command before it prints."""
    commands = _documented_commands("docs/tradeoff.md", "python benchmarks/compare_runs.py")
    head = "| run | epochs | last validation |"
    tables = _tables_headed((REPO / "docs/tradeoff.md").read_text(), head)
    assert len(commands) == len(tables) == 2, (commands, len(tables))
    for argv, table in zip(commands, tables, strict=True):
        output = _stdout(*argv[1:])
        assert table == _table_headed(output, head), argv
