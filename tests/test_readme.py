"""The Python code blocks of the README, the guides in docs/ and the model
cards run as written, from the repository root, as a user would paste them."""

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

DOCUMENTS = [
    REPO / "README.md",
    REPO / "CONTRIBUTING.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "savedmodels").glob("**/README.md")),
]
BLOCKS = [
    pytest.param(block, id=f"{path.relative_to(REPO)}#{number}")
    for path in DOCUMENTS
    for number, block in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(), re.S), 1)
]


def test_there_are_blocks_to_run():
    assert len(BLOCKS) >= 4  # the README's use section and one per model card


@pytest.mark.parametrize("block", BLOCKS)
def test_python_block_runs(block):
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
