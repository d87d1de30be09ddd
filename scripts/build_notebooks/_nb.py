"""What every chapter builder shares: collect cells, write the notebook, optionally execute it.

A builder (``scripts/build_notebooks/<chapter>.py``) holds a chapter's cells as Python strings:

    from _nb import code, md, main
    md(r\"\"\"# Title ...\"\"\")
    code(r\"\"\"g = setup("Title")\"\"\")
    ...
    if __name__ == "__main__":
        main("chapter", {"N_CHECKS": "42"})

``python scripts/build_notebooks/<chapter>.py`` writes ``book/<chapter>.ipynb`` unexecuted;
``--execute`` also runs it in a fresh kernel (working directory ``book/``) so it can be committed
with its outputs. Use raw strings (``r\"\"\"...\"\"\"``): in a plain string ``\\beta`` is a backspace.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

BOOK = Path(__file__).resolve().parents[2] / "book"
CELLS: list[nbformat.NotebookNode] = []


def md(text: str) -> None:
    """Append a markdown cell."""
    CELLS.append(new_markdown_cell(text.strip("\n")))


def code(text: str, tags: list[str] | None = None) -> None:
    """Append a code cell, with cell tags (e.g. ``["solution"]``) if given."""
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    CELLS.append(cell)


def notebook(replacements: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The notebook of the collected cells, with each placeholder replaced in every cell."""
    cells = []
    for cell in CELLS:
        cell = nbformat.from_dict(dict(cell))
        for key, value in (replacements or {}).items():
            cell.source = cell.source.replace(key, str(value))
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(name: str, replacements: dict[str, str] | None = None) -> Path:
    """Write ``book/<name>.ipynb``; with ``--execute`` on the command line, run it in place too."""
    path = BOOK / f"{name}.ipynb"
    nb = notebook(replacements)
    if "--execute" in sys.argv:
        from nbclient import NotebookClient

        t0 = time.perf_counter()
        NotebookClient(nb, kernel_name="python3", timeout=600,
                       resources={"metadata": {"path": str(BOOK)}}).execute()
        print(f"executed {name} in {time.perf_counter() - t0:.1f} s")
    nbformat.write(nb, str(path))
    print(f"wrote {path}")
    return path
