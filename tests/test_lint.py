"""The workflow and the package pass the linters CI requires (snakemake --lint, snakefmt, ruff)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "snakemake", "--lint", "-n"],
        [str(BIN / "snakefmt"), "--check", "."],
        [sys.executable, "-m", "ruff", "check", "."],
    ],
    ids=["snakemake-lint", "snakefmt", "ruff"],
)
def test_linter_is_clean(command):
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
