"""Static checks of the committed notebooks (cheap; the full checks run under nbval)."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted(Path(__file__).resolve().parents[1].glob("book/*.ipynb"))
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # e.g. "\b" from "\beta" in a non-raw string


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_control_characters_in_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = [k for k, c in enumerate(nb["cells"]) if CONTROL.search(_source(c))]
    assert not bad, f"{path.name}: cells {bad} hold control characters (a '\\b' from '\\beta'?)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and _source(c).strip()]
    assert code and all(c.get("execution_count") for c in code), f"{path.name} has unexecuted code cells"
