"""A Colab launch, rehearsed offline (scripts/colab_rehearsal.py): a chapter's notebook, alone
in an empty folder on a Python without this project, installs ddpm_lib from the repository
in its first cell, fetches the digits checkpoint, and runs every cell."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode,
                    reason="needs the project as a git repository (the rehearsal clones HEAD)")
def test_a_chapter_runs_where_only_its_notebook_is():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "colab_rehearsal.py")],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    import nbformat

    cells = sum(c.cell_type == "code" for c in nbformat.read(ROOT / "book" / "sde_toolkit.ipynb", as_version=4).cells)
    assert f"sde_toolkit: {cells} code cell(s) ran" in r.stdout
    assert "ddpm_discrete: 1 code cell(s) ran" in r.stdout and "files fetched: checkpoints/digits.pt" in r.stdout
    assert "installed by the first cell from the repository into" in r.stdout
