"""Releasing the student edition safely: the package without solutions, the HTML's downloadable
sources scrubbed, and a search of the whole edition for any line of a solution.

* :func:`make_student_package` copies ``ddpm_lib`` and ``ddpm_course`` without
  ``ddpm_course/solutions`` (the reference solutions and the catalogues of mistakes);
* :func:`scrub_sources` strips solution cells and ``{solution}`` blocks from ``html/_sources``
  (the copies behind the pages' download button, which Sphinx takes from the unstripped sources);
* :func:`find_leaks` looks for every distinctive line of every solution in a folder.

``scripts/student_edition.sh`` calls them through ``python -m ddpm_course.student``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from .student import SOLUTION_TAG, _tags, strip_solution_markdown, student_notebook

__all__ = ["make_student_package", "scrub_sources", "solution_fingerprints", "find_leaks"]


_PACKAGE_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "solutions", "*.egg-info")


def make_student_package(src: str | Path, dest: str | Path) -> Path:
    """The installable package for students: ``ddpm_lib`` and ``ddpm_course`` without
    ``ddpm_course/solutions`` (the reference solutions); ``pip install DEST`` installs it."""
    src, dest = Path(src).resolve(), Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (src / name).is_file():
            shutil.copy2(src / name, dest / name)
    for pkg in ("ddpm_lib", "ddpm_course"):
        shutil.copytree(src / pkg, dest / pkg, ignore=_PACKAGE_IGNORE)
    return dest


def scrub_sources(html_dir: str | Path) -> int:
    """Strip ``{solution}`` blocks and solution cells from the page sources the HTML offers for
    download (``_sources/``); the number of files rewritten."""
    import nbformat

    n = 0
    for path in sorted(Path(html_dir, "_sources").rglob("*")):
        if path.suffix == ".ipynb":
            nb = nbformat.read(str(path), as_version=4)
            nbformat.write(student_notebook(nb, clear_outputs=False, strip_markdown=True), str(path))
        elif path.suffix in (".md", ".txt", ".rst"):
            text = path.read_text(encoding="utf-8")
            path.write_text(strip_solution_markdown(text), encoding="utf-8")
        else:
            continue
        n += 1
    return n


def solution_fingerprints(book_dir: str | Path) -> list[str]:
    """Distinctive lines of every solution (code of cells tagged ``solution``, text of ``{solution}``
    blocks), to search a student edition for leaks."""
    import nbformat

    prints: set[str] = set()
    for src in sorted(Path(book_dir).glob("*.ipynb")):
        nb = nbformat.read(str(src), as_version=4)
        for cell in nb.cells:
            text = cell.get("source", "")
            if cell.get("cell_type") == "code" and SOLUTION_TAG in _tags(cell):
                body = text
            elif cell.get("cell_type") == "markdown" and "{solution" in text:
                kept = set(strip_solution_markdown(text).splitlines())
                body = "\n".join(line for line in text.splitlines() if line not in kept)
            else:
                continue
            for line in body.splitlines():
                line = line.strip()
                if (len(line) >= 30 and not line.startswith(("def ", "```", ":::", ":", "#", '"""'))
                        and not line.endswith(":")):
                    prints.add(line)
    return sorted(prints)


def find_leaks(edition_dir: str | Path, book_dir: str | Path = "book") -> list[str]:
    """``"file: line"`` for every solution fingerprint found in a file of the student edition."""
    prints = solution_fingerprints(book_dir)
    leaks = []
    for path in sorted(Path(edition_dir).rglob("*")):
        if not path.is_file() or path.suffix in (".png", ".jpg", ".svg", ".woff", ".woff2", ".ttf", ".pyc"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        text = text.replace("\\n", "\n").replace('\\"', '"')  # JSON-escaped copies too
        leaks += [f"{path}: {fp[:80]}" for fp in prints if fp in text]
    return leaks
