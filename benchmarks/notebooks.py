"""Benchmark: execute every chapter notebook in a fresh kernel, as a student would, and print
its wall time, the kernel's CPU time (user + system: the figure to judge by on a shared machine)
and the kernel's peak memory (prints figures; not a test).

    python benchmarks/notebooks.py                   # every notebook in the table of contents
    python benchmarks/notebooks.py langevin          # one chapter
    python benchmarks/notebooks.py --cells 8 langevin  # and its 8 costliest cells (CPU s, peak MB)
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from ddpm_course.ledger import chapter_notebooks

BOOK = Path(__file__).resolve().parents[1] / "book"
#: appended cell: the kernel's peak RSS (kB) and CPU seconds (user + system, itself and finished children)
USAGE = ("import resource as _r; _s, _c = _r.getrusage(_r.RUSAGE_SELF), _r.getrusage(_r.RUSAGE_CHILDREN); "
         "print(_s.ru_maxrss, _s.ru_utime + _s.ru_stime + _c.ru_utime + _c.ru_stime)")


def chapters() -> list[str]:
    """The notebooks listed in _toc.yml, in book order."""
    return chapter_notebooks(BOOK.parent)


#: prepended cell (with --cells): record the kernel's CPU seconds, peak RSS and RSS after every cell (kB)
CELL_CLOCK = ("import time as _t, resource as _r, os as _os\n_cpu = []\n"
              "_rss = lambda: int(open('/proc/self/statm').read().split()[1]) * _os.sysconf('SC_PAGE_SIZE') // 1024 "
              "if _os.path.exists('/proc/self/statm') else 0\n"
              "get_ipython().events.register('pre_run_cell', lambda info: _cpu.append([_t.process_time(), 0.0, 0, 0]))\n"
              "get_ipython().events.register('post_run_cell', lambda res: _cpu and _cpu[-1].__setitem__(slice(1, 4), "
              "[_t.process_time(), _r.getrusage(_r.RUSAGE_SELF).ru_maxrss, _rss()]))")
CELL_REPORT = "print(*(f'{b - a:.3f},{m},{r}' for a, b, m, r in _cpu[:-1]))"


def _cell_seconds(cell: nbformat.NotebookNode) -> float:
    """Wall seconds of one executed cell, from nbclient's ``record_timing`` metadata."""
    from datetime import datetime

    t = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in t or "shell.execute_reply" not in t:
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(t["shell.execute_reply"]) - parse(t["iopub.execute_input"])).total_seconds()


def _text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def run(name: str, cells: int = 0) -> tuple[float, float, float]:
    """Execute ``book/<name>.ipynb``; return (wall seconds, kernel CPU seconds, kernel peak RSS in MB).

    With ``cells > 0`` also print the ``cells`` code cells that took the most CPU time (CPU and wall
    seconds, peak RSS so far and its rise, RSS held after the cell, first source line); the two clock
    cells this adds cost well under 0.1 s.
    """
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if cells > 0:
        nb.cells.insert(0, nbformat.v4.new_code_cell(CELL_CLOCK))
        nb.cells.append(nbformat.v4.new_code_cell(CELL_REPORT))
    nb.cells.append(nbformat.v4.new_code_cell(USAGE))
    t0 = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600, record_timing=True,
                   resources={"metadata": {"path": str(BOOK)}}).execute()
    wall = time.perf_counter() - t0
    rss_kb, cpu = _text(nb.cells[-1]).split()
    if cells > 0:
        rows = [v.split(",") for v in _text(nb.cells[-2]).split()]
        cpu_s, peak = [float(a) for a, _, _ in rows], [int(b) / 1024 for _, b, _ in rows]
        held = [int(c) / 1024 for _, _, c in rows]  # RSS after the cell (after the heap is trimmed)
        rise = [p - (peak[k - 1] if k else 0.0) for k, p in enumerate(peak)]
        for k in sorted(range(len(code)), key=lambda k: -cpu_s[k])[:cells]:
            c = code[k]
            first = next((ln for ln in c.source.splitlines() if ln.strip() and not ln.startswith(("#", "%"))), "")
            print(f"    code cell {k:3d} {cpu_s[k]:6.2f} CPU-s {_cell_seconds(c):6.2f} s  peak {peak[k]:5.0f} MB "
                  f"(+{rise[k]:3.0f}) held {held[k]:4.0f} MB  {first[:44]}")
        top = sorted(range(len(code)), key=lambda k: -rise[k])[:3]
        print("    peak raised most by code cells " + ", ".join(f"{k} (+{rise[k]:.0f} MB)" for k in top))
    return wall, float(cpu), float(rss_kb) / 1024


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapters", nargs="*", metavar="CHAPTER",
                   help="chapter names (book/<CHAPTER>.ipynb); default: every notebook in _toc.yml")
    p.add_argument("--cells", type=int, default=0, metavar="K", help="also print each chapter's K slowest cells")
    args = p.parse_args(argv)
    known = chapters()
    unknown = [n for n in args.chapters if not (BOOK / f"{n}.ipynb").is_file()]
    if unknown:
        p.error(f"no notebook book/{unknown[0]}.ipynb; known: {', '.join(known)}")
    names = args.chapters or known
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread, as scripts/execute_chapters.sh and CI run them
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(f"{'notebook':<20} {'wall s':>7} {'CPU s':>7} {'peak MB':>8}   (fresh kernel, imports included)")
    total_wall = total_cpu = 0.0
    for name in names:
        wall, cpu, mb = run(name, args.cells)
        total_wall += wall
        total_cpu += cpu
        print(f"{name:<20} {wall:7.1f} {cpu:7.1f} {mb:8.0f}", flush=True)
    print(f"{'all':<20} {total_wall:7.1f} {total_cpu:7.1f}")


if __name__ == "__main__":
    main()
