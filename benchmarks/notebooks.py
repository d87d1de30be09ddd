"""Benchmark: execute every chapter notebook in a fresh kernel, as a student would, and print
its wall time and the kernel's peak memory (prints figures; not a test).

    python benchmarks/notebooks.py            # every notebook in the table of contents
    python benchmarks/notebooks.py langevin   # one chapter
"""
from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BOOK = Path(__file__).resolve().parents[1] / "book"
PEAK_RSS = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def chapters() -> list[str]:
    """The notebooks listed in _toc.yml, in book order."""
    toc = (BOOK.parent / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"file:\s*book/(\S+)", toc)
    return [n for n in names if (BOOK / f"{n}.ipynb").is_file()]


def run(name: str) -> tuple[float, float]:
    """Execute ``book/<name>.ipynb``; return (wall seconds, kernel peak RSS in MB)."""
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_RSS))
    t0 = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(BOOK)}}).execute()
    wall = time.perf_counter() - t0
    rss_kb = float("".join(o.get("text", "") for o in nb.cells[-1].outputs).strip())
    return wall, rss_kb / 1024


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapters", nargs="*", metavar="CHAPTER",
                   help="chapter names (book/<CHAPTER>.ipynb); default: every notebook in _toc.yml")
    args = p.parse_args(argv)
    known = chapters()
    unknown = [n for n in args.chapters if not (BOOK / f"{n}.ipynb").is_file()]
    if unknown:
        p.error(f"no notebook book/{unknown[0]}.ipynb; known: {', '.join(known)}")
    names = args.chapters or known
    print(f"{'notebook':<20} {'wall s':>7} {'peak MB':>8}   (fresh kernel, imports included)")
    total = 0.0
    for name in names:
        wall, mb = run(name)
        total += wall
        print(f"{name:<20} {wall:7.1f} {mb:8.0f}")
    print(f"{'all':<20} {total:7.1f}")


if __name__ == "__main__":
    main()
