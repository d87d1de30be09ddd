"""The grades CSV and the feedback files: written as students finish, atomically, safe to open.

* Every cell is text written exactly: a name's undecodable bytes (and control characters and
  backslashes) are escaped as ``\\xNN`` / ``\\\\``, so two names never share a cell value.
* Cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a leading
  ``'`` (OWASP's advice against CSV injection: a spreadsheet shows them as text).
* The CSV is rewritten whole (sorted by submission) to a temporary file and renamed over the old
  one after each finished submission: a killed run leaves a complete CSV of every finished one.
* ``feedback/<submission>.txt`` beside the CSV tells each student, in plain text, which
  exercises passed and the hint for each failure.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FIELDS", "Row", "escape_name", "cell", "write_csv", "read_csv", "write_feedback", "feedback_path"]

FIELDS = ["submission", "student", "notebook", "exercise", "result", "passed", "hint", "flags", "sandbox"]


@dataclass
class Row:
    submission: str     # the path in the submissions folder, as the file system gives it
    student: str
    notebook: str
    exercise: str
    result: str         # pass | fail | timeout | error
    hint: str = ""
    flags: str = ""
    sandbox: str = "bwrap"

    def as_cells(self) -> dict[str, str]:
        return {"submission": cell(escape_name(self.submission)), "student": cell(escape_name(self.student)),
                "notebook": cell(escape_name(self.notebook)), "exercise": cell(self.exercise),
                "result": cell(self.result), "passed": "1" if self.result == "pass" else "0",
                "hint": cell(self.hint), "flags": cell(self.flags), "sandbox": cell(self.sandbox)}


def escape_name(name: str) -> str:
    """``name`` (a str from the file system, undecodable bytes as surrogates) as printable text, reversibly."""
    raw = name.encode("utf-8", "surrogateescape")
    out = []
    for ch in raw.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:         # an undecodable byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


def cell(text: str) -> str:
    """Neutralise a would-be spreadsheet formula (OWASP: prefix ``'``)."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _atomic_write(path: Path, text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_csv(rows: list[dict[str, str]], out: Path) -> None:
    """Write ``rows`` (CSV cells, see :meth:`Row.as_cells`) sorted by submission and exercise, atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in sorted(rows, key=lambda r: (r["submission"], r["exercise"])):
        writer.writerow(r)
    _atomic_write(out, buf.getvalue())


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a grades CSV; ``ValueError`` when its header is not :data:`FIELDS`."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != FIELDS:
            raise ValueError(f"{path} is not a grades CSV (its header is {reader.fieldnames})")
        return list(reader)


def feedback_path(out_csv: Path, submission: str) -> Path:
    """``feedback/<readable name>-<8 hex>.txt`` beside the CSV (unique per submission, safe as a file name)."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", escape_name(submission)).strip("._")[:80] or "submission"
    digest = hashlib.sha256(submission.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return Path(out_csv).parent / "feedback" / f"{readable}-{digest}.txt"


def write_feedback(out_csv: Path, rows: list[Row]) -> Path:
    """The student's feedback file for one submission's rows."""
    first = rows[0]
    path = feedback_path(out_csv, first.submission)
    path.parent.mkdir(parents=True, exist_ok=True)
    passed = sum(r.result == "pass" for r in rows if r.exercise)
    graded = sum(1 for r in rows if r.exercise)
    lines = [f"Submission: {escape_name(first.submission)}", f"Student: {escape_name(first.student)}",
             f"Exercises passed: {passed} of {graded}", ""]
    for r in rows:
        mark = {"pass": "PASS", "fail": "FAIL"}.get(r.result, r.result.upper())
        lines.append(f"[{mark}] {r.exercise or '(no exercise)'}")
        if r.hint and r.result != "pass":
            lines.append(f"    {r.hint}")
    _atomic_write(path, "\n".join(lines) + "\n")
    return path
