"""The grader's side of the sandbox: read what came back (plain JSON, size-limited) and judge it.

Nothing the sandbox returns is a verdict: it returns the values the student's functions gave
on the grader's cases, and :func:`verdicts` compares them, in the grader's process, with the
reference outputs computed here by :mod:`ddpm_course.solutions` on the same seed.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

__all__ = ["MAX_RESULT_BYTES", "read_result", "verdicts", "tamper_flags", "checker_ids"]

MAX_RESULT_BYTES = 16 << 20
CHECK_CALL = re.compile(r"""\bcheck\(\s*(?:exercise_id\s*=\s*)?["']([^"']+)["']""")

# Code that tries to change how it is graded: reported beside the grade, which never depends on it.
_TAMPER = [
    (re.compile(r"\bCHECKERS\b"), "touches the checker registry"),
    (re.compile(r"\b(?:torch|np|numpy)(?:\.\w+)+\s*=(?!=)"), "assigns to a torch/numpy function"),
    (re.compile(r"\breference_\w+|ddpm_course\.solutions|\bkl_reference\b"), "refers to a reference solution"),
    (re.compile(r"DDPM_GRADING_LOG"), "writes a grading log"),
    (re.compile(r"/proc/|\bos\.kill\b|\bkillpg\b|\bsignal\.SIGKILL\b"), "inspects or signals other processes"),
    (re.compile(r"\bos\.fork\b|\bsetsid\b|\bdaemon\b"), "starts detached processes"),
]


def checker_ids(nb) -> list[str]:
    """Exercise ids named by ``check("…", …)`` calls in the notebook's code cells, in order."""
    ids: list[str] = []
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            for ex in CHECK_CALL.findall(cell.get("source", "")):
                if ex not in ids:
                    ids.append(ex)
    return ids


def tamper_flags(nb) -> str:
    """A short note of what the notebook's code tries against the grader (``""`` if nothing)."""
    code = "\n".join(c.get("source", "") for c in nb.cells if c.get("cell_type") == "code")
    return "; ".join(why for rx, why in _TAMPER if rx.search(code))


def read_result(path: Path) -> tuple[dict | None, str]:
    """The executor's JSON (its stdout's last line) or ``(None, why)``; at most :data:`MAX_RESULT_BYTES`."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RESULT_BYTES + 1)
    except OSError as exc:
        return None, f"no output from the sandbox ({exc.strerror})"
    if len(raw) > MAX_RESULT_BYTES:
        return None, "the sandbox's output exceeded its size limit"
    lines = [ln for ln in raw.splitlines() if ln.strip()]
    if not lines:
        return None, "the sandbox returned nothing (killed: out of memory, or its processes were killed)"
    try:
        doc = json.loads(lines[-1].decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, "the sandbox's output is not a result"
    if not (isinstance(doc, dict) and doc.get("version") == 1 and isinstance(doc.get("probes"), dict)
            and isinstance(doc.get("probe_errors"), dict) and isinstance(doc.get("status"), str)):
        return None, "the sandbox's output is not a result"
    return doc, ""


@lru_cache(maxsize=64)
def _expected(exercise_id: str, seed: int) -> dict:
    from ddpm_course.solutions import expected

    return expected(exercise_id, seed)


def verdicts(ids: list[str], doc: dict, seed: int) -> dict[str, tuple[str, str]]:
    """``{exercise: (result, hint)}`` from the executor's document, judged here against the reference."""
    from ddpm_course.exercises import load_all
    from ddpm_course.exercises._engine import EXERCISES, judge

    load_all()
    note = {"timeout": " (the notebook ran past its time limit)", "dead": " (the kernel died)"}.get(doc["status"], "")
    out: dict[str, tuple[str, str]] = {}
    for ex in ids:
        spec = EXERCISES[ex]
        data = doc["probes"].get(ex)
        if data is None:
            why = str(doc["probe_errors"].get(ex) or doc.get("message") or "the check did not run")[:300]
            result = "timeout" if why.startswith("timeout") or doc["status"] == "timeout" else "error"
            out[ex] = (result, why)
        elif isinstance(data, dict) and "missing" in data:
            out[ex] = ("fail", f"the notebook defines no function {spec.function}{note}")
        else:
            try:
                fb = judge(spec, data, _expected(ex, seed))
            except (TypeError, ValueError, KeyError, AttributeError, RuntimeError, IndexError):
                out[ex] = ("error", "the values that came back from the sandbox are malformed")
                continue
            out[ex] = ("pass" if fb.passed else "fail", str(fb.hint) + ("" if fb.passed else note))
    return out
