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


# -- one source per chapter: book/<chapter>.md (MyST, jupytext) paired with the executed .ipynb --
def _cells(nb) -> list[tuple[str, str, dict]]:
    """What a contributor writes: each cell's type, source and metadata (outputs excluded)."""
    drop = {"execution", "jupyter", "collapsed", "scrolled", "ExecuteTime"}
    return [(c.cell_type, c.source, {k: v for k, v in c.metadata.items() if k not in drop}) for c in nb.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_paired_with_its_myst_source(path):
    jupytext = pytest.importorskip("jupytext")
    import nbformat

    md = path.with_suffix(".md")
    assert md.exists(), f"{path.name} has no MyST source {md.name}: run `jupytext --set-formats ipynb,md:myst {path}`"
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata.get("jupytext", {}).get("formats") == "ipynb,md:myst", f"{path.name} is not paired (formats)"
    text = jupytext.read(str(md))
    assert _cells(text) == _cells(nb), (
        f"{md.name} and {path.name} are out of sync: edit the .md, then run "
        f"`jupytext --sync {md}` and re-execute (see CONTRIBUTING.md)")


def test_sphinx_builds_only_the_notebook_of_each_pair():
    """Sphinx treats two files with one stem as one document: the paired .md files are excluded."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    excluded = set(yaml.safe_load((root / "_config.yml").read_text())["exclude_patterns"])
    missing = [f"book/{p.stem}.md" for p in NOTEBOOKS if f"book/{p.stem}.md" not in excluded]
    assert not missing, f"add {missing} to exclude_patterns in _config.yml"
