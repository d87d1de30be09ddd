"""Colab: every chapter's first code cell installs ddpm_lib from the repository URL set once in _config.yml."""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
URL = CONFIG["repository"]["url"]
BRANCH = CONFIG["repository"].get("branch", "main")
CHAPTERS = sorted(ROOT.glob("book/*.ipynb"))
URLS = re.compile(r"https?://[^\s\"'`)]+")


def _first_code_cell(path: Path) -> dict:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return next(c for c in nb["cells"] if c["cell_type"] == "code")


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_first_cell_installs_the_package_from_the_configured_repository(path):
    cell = _first_code_cell(path)
    src = _source(cell)
    assert "remove-cell" in cell["metadata"].get("tags", []), f"{path.name}: the set-up cell must be tagged remove-cell"
    # exactly the URL of _config.yml, once, and no other address (bare hosts only, to derive the raw URL)
    found = URLS.findall(src)
    assert found.count(URL) == 1, f"{path.name}: first cell holds {found}, not {URL!r} once"
    assert all(u == URL or re.fullmatch(r"https://[a-z.]+/", u) for u in found), found
    assert 'find_spec("ddpm_lib") is None' in src and '"pip", "install"' in src and 'f"git+{REPOSITORY}"' in src
    assert not cell.get("outputs"), f"{path.name}: where ddpm_lib is installed the set-up cell prints nothing"


def test_the_digits_chapter_fetches_its_checkpoint_where_it_loads_it():
    path = ROOT / "book" / "ddpm_discrete.ipynb"
    src = _source(_first_code_cell(path))
    nb = json.loads(path.read_text(encoding="utf-8"))
    loads = "".join(_source(c) for c in nb["cells"] if c["cell_type"] == "code")
    assert 'Path("checkpoints/digits.pt")' in loads            # where the chapter loads it (cwd = book/)
    assert f'/{BRANCH}/book/checkpoints/digits.pt' in src and '"checkpoints/digits.pt"' in src
    assert (ROOT / "book" / "checkpoints" / "digits.pt").is_file()
