"""Runs INSIDE the sandbox: execute a notebook, then call its exercise functions on the grader's cases.

    python -m ddpm_course.grading.executor NOTEBOOK JOB_JSON

``JOB_JSON`` holds ``{"ids": [...], "seed": int, "timeout": s, "probe_timeout": s, "kernel": name}``.
The notebook's code cells run in a fresh Jupyter kernel (nbclient; a cell that raises does not
stop the run; past the time limit the kernel is interrupted and the remaining cells are
skipped). Then, in the same kernel, one probe cell per exercise calls the student's function
on the cases of the grader's seed (:func:`ddpm_course.exercises._engine.probe`) and writes
plain JSON. The last line of stdout is one JSON document with everything the grader needs;
it holds values only, never a verdict.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

__all__ = ["probe_cell_source", "run_probe", "main"]

MAX_PROBE_BYTES = 8 << 20


def probe_cell_source(exercise_id: str, seed: int, path: str) -> str:
    return ("import ddpm_course.grading.executor as _ddpm_grading_executor\n"
            f"_ddpm_grading_executor.run_probe(globals(), {exercise_id!r}, {int(seed)}, {path!r})\n")


def run_probe(namespace: dict, exercise_id: str, seed: int, path: str) -> None:
    """In the kernel: probe the function the exercise names (``{"missing": ...}`` when undefined)."""
    from ddpm_course.exercises import load_all
    from ddpm_course.exercises._engine import EXERCISES, probe

    load_all()
    spec = EXERCISES[exercise_id]
    fn = namespace.get(spec.function)
    data = {"missing": spec.function} if fn is None else probe(spec, fn, seed)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


def _no_dumping() -> None:
    """Make this process non-dumpable: the student's kernel (same uid) cannot open /proc/<us>/fd or ptrace us."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # noqa: BLE001 - best effort
        pass


def _read_probe(path: Path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, "no result (the check did not finish)"
    with os.fdopen(fd, "rb") as f:
        raw = f.read(MAX_PROBE_BYTES + 1)
    if len(raw) > MAX_PROBE_BYTES:
        return None, "the result is too large"
    try:
        return json.loads(raw), None
    except ValueError:
        return None, "the result is not valid JSON"


def execute(notebook: str, job: dict) -> dict:
    import subprocess

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    nb = nbformat.read(notebook, as_version=4)
    workdir = Path(notebook).resolve().parent
    client = NotebookClient(nb, kernel_name=job.get("kernel", "python3"), allow_errors=True, record_timing=False,
                            interrupt_on_timeout=True, startup_timeout=120, timeout=int(job["timeout"]),
                            resources={"metadata": {"path": str(workdir)}})
    result = {"version": 1, "status": "ok", "message": "", "probes": {}, "probe_errors": {}}
    try:
        with client.setup_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            deadline = time.monotonic() + float(job["timeout"])
            for index, cell in enumerate(nb.cells):
                if cell.get("cell_type") != "code":
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    result["status"] = "timeout"
                    result["message"] = f"the notebook ran past the {job['timeout']:g} s limit; later cells were skipped"
                    break
                client.timeout = max(1, int(left))
                client.execute_cell(cell, index)
            if time.monotonic() > deadline and result["status"] == "ok":
                result["status"] = "timeout"
                result["message"] = f"the notebook ran past the {job['timeout']:g} s limit and was interrupted"
            for k, ex in enumerate(job["ids"]):
                out = workdir / f".probe-{k}.json"
                if out.exists() or out.is_symlink():
                    out.unlink()
                cell = nbformat.v4.new_code_cell(probe_cell_source(ex, job["seed"], str(out)))
                nb.cells.append(cell)
                client.timeout = int(job["probe_timeout"])
                started = time.monotonic()
                client.execute_cell(cell, len(nb.cells) - 1)
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                data, why = _read_probe(out)
                if data is None:
                    if time.monotonic() - started >= job["probe_timeout"]:
                        why = f"timeout: calling the function ran past {job['probe_timeout']:g} s"
                    elif errors:
                        why = f"the check raised {errors[0].get('ename')}: {str(errors[0].get('evalue'))[:200]}"
                    result["probe_errors"][ex] = why
                else:
                    result["probes"][ex] = data
    except DeadKernelError:
        result["status"] = "dead"
        result["message"] = "the kernel died (out of memory, a crash, or killed)"
    except CellTimeoutError:  # pragma: no cover - interrupt_on_timeout makes this rare
        result["status"] = "timeout"
        result["message"] = "a cell could not be interrupted at the time limit"
    except Exception as exc:  # noqa: BLE001 - the grader gets one line, never a traceback
        result["status"] = "error"
        result["message"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _no_dumping()
    notebook, job_path = argv[:2]
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    result = execute(notebook, job)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
