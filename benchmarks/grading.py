"""Benchmark: submissions graded per minute, and what the sandbox costs (prints figures; not a test).

    python benchmarks/grading.py                      # 30 copies of the Langevin chapter's student notebook
    python benchmarks/grading.py --chapter ou_forward --copies 10 --jobs 1 2

It writes COPIES copies of one chapter's student-edition notebook, with the reference answer
pasted into the exercise cell so that the whole chapter runs, grades them with
``python -m ddpm_course.grading`` for each ``--jobs`` value, and prints submissions per minute.
Then it runs one copy three ways: bare (nbclient in this process's environment, no grader),
graded with ``--no-sandbox``, and graded in the bubblewrap sandbox, and prints the
sandbox's overhead per submission (sandboxed minus unsandboxed grading, and minus bare).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ddpm_course.solutions import load  # noqa: E402
from ddpm_course.student import student_notebook  # noqa: E402


def solved_student_notebook(chapter: str):
    """The chapter's student notebook with its stubs replaced by the full book's solution cells."""
    full = nbformat.read(str(ROOT / "book" / f"{chapter}.ipynb"), as_version=4)
    nb = student_notebook(full)
    for cell, original in zip(nb.cells, full.cells):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            cell.source = original.source
    return nb


def grade(folder: Path, out: Path, jobs: int, sandbox: bool, timeout: float) -> float:
    """Wall seconds of one grading run (a fresh process, as an instructor runs it)."""
    cmd = [sys.executable, "-m", "ddpm_course.grading", str(folder), "--out", str(out), "--jobs", str(jobs),
           "--timeout", str(timeout), "--seed", "1"] + ([] if sandbox else ["--no-sandbox"])
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"error: grading failed: {proc.stderr.strip().splitlines()[-1:]}")
    rows = out.read_text(encoding="utf-8").splitlines()[1:]
    passed = sum(",pass,1," in r for r in rows)
    print(f"    ({passed}/{len(rows)} rows pass)")
    return wall


def bare(nb_path: Path) -> float:
    nb = nbformat.read(str(nb_path), as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=True,
                   resources={"metadata": {"path": str(nb_path.parent)}}).execute()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chapter", default="langevin", help="chapter whose student notebook is copied (default langevin)")
    ap.add_argument("--copies", type=int, default=30, help="submissions per run (default 30)")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time (default 1 2)")
    ap.add_argument("--timeout", type=float, default=600, help="per-notebook limit passed to the grader")
    args = ap.parse_args(argv)
    if not (ROOT / "book" / f"{args.chapter}.ipynb").is_file() or args.copies < 1:
        ap.error(f"no chapter book/{args.chapter}.ipynb, or --copies < 1")
    load()
    nb = solved_student_notebook(args.chapter)
    with tempfile.TemporaryDirectory(prefix="ddpm-bench-") as tmp:
        tmp = Path(tmp)
        subs = tmp / "subs"
        subs.mkdir()
        for k in range(args.copies):
            nbformat.write(nb, str(subs / f"student{k:03d}.ipynb"))
        print(f"{args.copies} copies of the {args.chapter} student notebook (solved)")
        for jobs in args.jobs:
            wall = grade(subs, tmp / f"grades-{jobs}.csv", jobs, True, args.timeout)
            print(f"  --jobs {jobs}: {wall:.0f} s wall, {60 * args.copies / wall:.2f} submissions/min (sandboxed)")
        one = tmp / "one"
        one.mkdir()
        nbformat.write(nb, str(one / "student.ipynb"))
        t_bare = bare(one / "student.ipynb")
        t_open = grade(one, tmp / "open.csv", 1, False, args.timeout)
        t_box = grade(one, tmp / "box.csv", 1, True, args.timeout)
        print(f"  one submission: bare nbclient {t_bare:.1f} s; graded without sandbox {t_open:.1f} s; "
              f"graded in the sandbox {t_box:.1f} s")
        print(f"  sandbox overhead: {t_box - t_open:+.1f} s against unsandboxed grading "
              f"({100 * (t_box - t_open) / t_open:+.0f} %), {t_box - t_bare:+.1f} s against the bare notebook "
              "(the grader adds the probe cells and its own start-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
