"""Grade a folder of submitted notebooks with the book's exercise checkers.

    python -m ddpm_course.grading SUBMISSIONS_DIR --out grades.csv [--timeout 120] [--jobs 1]

``SUBMISSIONS_DIR`` holds one notebook per student (``alice.ipynb``: the student is the
file's stem) or one folder per student (``alice/chapter.ipynb``: the student is the
folder's name). Each notebook is executed from the top in a fresh kernel (nbclient, in a
child process, cells that raise do not stop it) with a wall-clock limit for the whole
notebook. The checker cells call ``ddpm_course.exercises.check(label, fn)``, which appends
each result to the file named by ``$DDPM_GRADING_LOG``; the grader reads that log.

The CSV has one row per student × notebook × exercise: ``result`` is ``pass``, ``fail``
(with the checker's hint), ``not run`` (the checker cell raised before checking, e.g. a
missing function, or never ran), ``timeout`` or ``malformed``. A notebook that crashes,
loops or is not valid JSON gets rows that say so; the others are graded as usual.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["GradeRow", "find_submissions", "checker_ids", "grade_notebook", "grade_folder", "write_csv", "main"]

CHECK_CALL = re.compile(r"""\bcheck\(\s*(?:exercise_id\s*=\s*)?["']([^"']+)["']""")
CSV_FIELDS = ["student", "notebook", "exercise", "result", "passed", "hint"]


@dataclass
class GradeRow:
    student: str
    notebook: str
    exercise: str
    result: str          # pass | fail | not run | timeout | malformed
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.result == "pass"

    def as_dict(self) -> dict:
        return {"student": self.student, "notebook": self.notebook, "exercise": self.exercise,
                "result": self.result, "passed": int(self.passed), "hint": self.hint}


@dataclass
class _Outcome:
    status: str                              # ok | timeout | malformed | failed
    message: str = ""
    logged: dict = field(default_factory=dict)       # exercise -> (passed, hint), last call wins
    cell_errors: dict = field(default_factory=dict)  # exercise -> "NameError: ..." of its checker cell
    ids: list = field(default_factory=list)          # exercises the notebook's checker cells name


def find_submissions(folder: str | Path) -> list[tuple[str, Path]]:
    """``(student, notebook)`` pairs: top-level ``*.ipynb`` (student = stem) and
    ``<student>/**/*.ipynb`` (student = folder name), checkpoints skipped."""
    folder = Path(folder)
    found = []
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix == ".ipynb":
            found.append((p.stem, p))
        elif p.is_dir() and not p.name.startswith("."):
            for nb in sorted(p.rglob("*.ipynb")):
                if ".ipynb_checkpoints" not in nb.parts:
                    found.append((p.name, nb))
    return found


def checker_ids(nb) -> list[str]:
    """Exercise ids named by ``check("…", …)`` calls in the notebook's code cells, in order."""
    ids = []
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            for ex in CHECK_CALL.findall(cell.get("source", "")):
                if ex not in ids:
                    ids.append(ex)
    return ids


def _cell_errors(nb) -> dict:
    errors = {}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        ids = CHECK_CALL.findall(cell.get("source", ""))
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                for ex in ids:
                    errors[ex] = f"{out.get('ename')}: {out.get('evalue')}"
    return errors


def _read_log(path: Path) -> dict:
    logged = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
                logged[str(rec["exercise"])] = (bool(rec["passed"]), str(rec.get("hint", "")))
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a kill
    return logged


# ------------------------------------------------------------------ the child process


def _execute(notebook: str, executed_out: str, timeout: float, kernel: str) -> int:
    """Run in a child process: execute ``notebook`` top to bottom, save it to ``executed_out``.

    Exit 0 when it ran to the end (cells may have raised), 3 on the time limit.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    def _term(signum, frame):  # the parent's time limit: stop, let nbclient shut the kernel down
        raise TimeoutError("killed by the grader's time limit")

    signal.signal(signal.SIGTERM, _term)
    nb = nbformat.read(notebook, as_version=4)
    deadline = []  # the limit counts from the first cell: kernel start-up is not the student's time
    workdir = tempfile.mkdtemp(prefix="ddpm-grade-")

    def cell_timeout(cell) -> int:
        if not deadline:
            deadline.append(time.monotonic() + timeout)
        return max(1, int(round(deadline[0] - time.monotonic())))

    client = NotebookClient(
        nb, kernel_name=kernel, allow_errors=True, record_timing=False, timeout_func=cell_timeout,
        startup_timeout=120, resources={"metadata": {"path": workdir}},
    )
    code = 0
    try:
        client.execute()
    except (CellTimeoutError, TimeoutError):
        code = 3
    except DeadKernelError:
        code = 4
    finally:
        nbformat.write(nb, executed_out)
    return code


# ------------------------------------------------------------------ the parent


def _run_one(notebook: Path, timeout: float, kernel: str) -> _Outcome:
    import nbformat

    try:
        nb = nbformat.read(str(notebook), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a "malformed" row
        return _Outcome("malformed", f"not a valid notebook ({type(exc).__name__}: {str(exc)[:200]})")
    ids = checker_ids(nb)
    with tempfile.TemporaryDirectory(prefix="ddpm-grading-") as tmp:
        log, executed = Path(tmp) / "checks.jsonl", Path(tmp) / "executed.ipynb"
        env = dict(os.environ, DDPM_GRADING_LOG=str(log), PYTHONHASHSEED="0", MPLBACKEND="Agg")
        # the kernel imports this very ddpm_lib (its checkers), installed or not
        here = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
        cmd = [sys.executable, "-m", "ddpm_course.grading", "--_execute", str(notebook), str(executed),
               str(timeout), kernel]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, text=True)
        try:
            output, _ = proc.communicate(timeout=timeout + 180)  # the child enforces `timeout` itself
        except subprocess.TimeoutExpired:
            _stop(proc)
            output = ""
        code = proc.returncode
        outcome = _Outcome("ok", ids=ids, logged=_read_log(log))
        if executed.is_file():
            try:
                outcome.cell_errors = _cell_errors(nbformat.read(str(executed), as_version=4))
            except Exception:  # noqa: BLE001 - a half-written file after a kill
                pass
    if code == 0:
        return outcome
    if code in (3, -signal.SIGTERM, -signal.SIGKILL) or code is None:
        outcome.status, outcome.message = "timeout", f"the notebook ran past the {timeout:g} s limit and was stopped"
    elif code == 4:
        outcome.status, outcome.message = "failed", "the kernel died (out of memory or a crash)"
    else:
        tail = (output or "").strip().splitlines()[-1:] or [""]
        outcome.status, outcome.message = "failed", f"execution failed (exit {code}): {tail[0][:200]}"
    return outcome


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def grade_notebook(student: str, notebook: Path, timeout: float = 120, kernel: str = "python3",
                   expected: list[str] | None = None) -> list[GradeRow]:
    """Rows for one notebook: every exercise it checks (and every one in ``expected``)."""
    outcome = _run_one(Path(notebook), timeout, kernel)
    name = Path(notebook).name
    ids = list(outcome.ids)
    for ex in list(expected or []) + list(outcome.logged):
        if ex not in ids:
            ids.append(ex)
    if not ids:
        ids = [""]
    rows = []
    for ex in ids:
        if outcome.status == "malformed":
            rows.append(GradeRow(student, name, ex, "malformed", outcome.message))
        elif ex in outcome.logged:
            passed, hint = outcome.logged[ex]
            rows.append(GradeRow(student, name, ex, "pass" if passed else "fail", hint))
        elif outcome.status == "timeout":
            rows.append(GradeRow(student, name, ex, "timeout", outcome.message))
        elif ex in outcome.cell_errors:
            rows.append(GradeRow(student, name, ex, "not run",
                                 f"the checker cell raised {outcome.cell_errors[ex]}"))
        elif ex == "":
            msg = outcome.message or "the notebook calls no exercise checker"
            rows.append(GradeRow(student, name, ex, "not run" if outcome.status == "ok" else outcome.status, msg))
        else:
            why = outcome.message or ("the checker cell is missing" if ex not in outcome.ids
                                      else "the checker cell did not run")
            rows.append(GradeRow(student, name, ex, "not run", why))
    return rows


def grade_folder(folder: str | Path, timeout: float = 120, kernel: str = "python3",
                 jobs: int = 1) -> list[GradeRow]:
    """Grade every submission in ``folder``; exercises any notebook of the same name checks are
    expected in all of them (a deleted checker cell shows as ``not run``)."""
    import nbformat

    folder = Path(folder)
    subs = find_submissions(folder)

    def key(nb_path: Path) -> str:  # alice.ipynb, bob.ipynb: one assignment; alice/ch1.ipynb: by name
        return "*" if nb_path.parent == folder else nb_path.name

    expected: dict[str, list[str]] = {}
    for _, nb_path in subs:
        try:
            ids = checker_ids(nbformat.read(str(nb_path), as_version=4))
        except Exception:  # noqa: BLE001 - malformed: graded as such later
            continue
        exp = expected.setdefault(key(nb_path), [])
        exp += [i for i in ids if i not in exp]

    def one(sub):
        student, nb_path = sub
        return grade_notebook(student, nb_path, timeout, kernel, expected.get(key(nb_path)))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, subs))
    return [row for rows in results for row in rows]


def write_csv(rows: list[GradeRow], out: str | Path) -> None:
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.as_dict())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_execute"]:  # the child process
        nb, out, timeout, kernel = argv[1:5]
        return _execute(nb, out, float(timeout), kernel)
    ap = argparse.ArgumentParser(prog="python -m ddpm_course.grading", description=__doc__.split("\n\n")[0])
    ap.add_argument("submissions", help="folder of submitted notebooks (or one folder per student)")
    ap.add_argument("--out", default="grades.csv", help="CSV to write (default grades.csv)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per notebook (default 120)")
    ap.add_argument("--kernel", default="python3", help="Jupyter kernel to run them in (default python3)")
    ap.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default 1)")
    args = ap.parse_args(argv)
    if not Path(args.submissions).is_dir():
        ap.error(f"{args.submissions} is not a folder")
    t0 = time.perf_counter()
    rows = grade_folder(args.submissions, args.timeout, args.kernel, args.jobs)
    write_csv(rows, args.out)
    students = sorted({r.student for r in rows})
    print(f"graded {len(students)} students, {len(rows)} rows -> {args.out} "
          f"({time.perf_counter() - t0:.0f} s wall)")
    for student in students:
        mine = [r for r in rows if r.student == student]
        flags = sorted({r.result for r in mine} - {"pass", "fail"})
        print(f"  {student}: {sum(r.passed for r in mine)}/{len(mine)} passed"
              + (f" ({', '.join(flags)})" if flags else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
