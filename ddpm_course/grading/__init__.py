"""Grade a folder of submitted notebooks; no student code runs in the process that decides a grade.

    python -m ddpm_course.grading SUBMISSIONS --out grades.csv [--jobs N] [--resume] [--shard K/N]
    python -m ddpm_course.grading merge --out grades.csv grades-*.csv

Modules, one job each:

* :mod:`.shard` — find the submissions (id = path in the folder; links refused), slice a shard, merge CSVs;
* :mod:`.sandbox` — the bubblewrap command and its limits (time, memory, processes, file size);
* :mod:`.executor` — runs *inside* the sandbox: the notebook in a kernel, then the exercise
  functions on the grader's seeded cases, printing plain JSON values;
* :mod:`.protocol` — reads that JSON (size-limited) and judges it against the reference,
  computed here by :mod:`ddpm_course.solutions`;
* :mod:`.runner` — one submission: scratch folder, sandbox, verdicts, clean-up;
* :mod:`.report` — the CSV (atomic, escaped, formula-safe) and the feedback files;
* :mod:`.cli` — the command line.

Importing this package imports nothing heavy (the executor imports it inside the sandbox).
"""
from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    from .cli import main as _main

    return _main(argv)
