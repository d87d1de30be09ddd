"""Apply each curated slip of ``tests/mutation/slips.py`` to a copy of the project, one at a time,
and show that the book and the unit tests catch it.

    .venv/bin/python tests/mutation/run_slips.py                 # every slip: unit tests and book
    .venv/bin/python tests/mutation/run_slips.py --only ancestral-beta-tilde-swap --no-book
    .venv/bin/python tests/mutation/run_slips.py --discover      # print which check fails first, assert nothing

For every slip the copy's file is patched (``old`` → ``new``), then

* **unit tests**: the slip's test files run with ``pytest -x``; the slip is *caught* when a test
  fails with an assertion (``AssertionError`` or a subclass, e.g. a ``pytest.raises`` or
  ``verify`` failure), not with a crash such as ``ZeroDivisionError``;
* **book**: the slip's chapter (its MyST source ``book/<chapter>.md``) runs top to bottom in a fresh kernel; the slip is caught
  when the notebook stops with ``VerificationError`` on one of the slip's *named* checks (a ✘ on a
  check that is about this step, not a changed printed number and not a crash).

The project is copied once into a temporary folder (``.venv``, ``_build`` and ``.git`` left out)
and put first on ``PYTHONPATH``, so the editable install of the working tree is shadowed and the
working tree itself is never modified. Exit status 0 when every slip is caught as required, 1
otherwise; the last line reads ``N passed, M failed``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from slips import SLIPS, Slip  # noqa: E402

IGNORE = shutil.ignore_patterns(".git", ".venv*", "_build", "node_modules", "mutants", "__pycache__",
                                "*.egg-info", ".ipynb_checkpoints", "runs", ".hypothesis")
_FAILED_CHECK = re.compile(r"check '([^']+)' failed")
# a failed assert, a verify check, pytest.raises that did not raise, pytest.fail
_ASSERTION_KINDS = {"AssertionError", "VerificationError", "ddpm_lib.verify.VerificationError", "Failed"}


@dataclass
class Outcome:
    """What happened to one slip."""

    slip: Slip
    unit: str = "not run"      # "assertion: <test>", "crash: <type> in <test>", "survived", "not run"
    book: str = "not run"      # "✘ <check>", "error: <type>", "survived", "not run"
    seconds: float = 0.0

    def unit_ok(self) -> bool:
        return self.unit.startswith("assertion") or not self.slip.tests

    def book_ok(self) -> bool:
        if not self.slip.chapter:
            return True
        m = re.match(r"✘ (\S+)", self.book)
        return bool(m) and m.group(1) in self.slip.checks


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(OMP_NUM_THREADS="1", PYTHONHASHSEED="0", MPLBACKEND="Agg")
    return env


def _run_unit(slip: Slip, copy: Path, python: str) -> str:
    if not slip.tests:
        return "not run"
    xml = copy / "_slip_junit.xml"
    xml.unlink(missing_ok=True)
    cmd = [python, "-m", "pytest", "-x", "-q", "-p", "no:randomly", f"--junitxml={xml}", *slip.tests]
    proc = subprocess.run(cmd, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=900)
    if proc.returncode == 0:
        return "survived"
    if not xml.exists():
        return f"crash: pytest exited {proc.returncode} ({proc.stdout.strip().splitlines()[-1:]})"
    for case in ET.parse(xml).getroot().iter("testcase"):
        for tag in ("failure", "error"):
            node = case.find(tag)
            if node is None:
                continue
            message = node.get("message", "")
            name = f"{case.get('classname', '')}::{case.get('name', '')}"
            kind = message.split(":", 1)[0].strip()
            assertion = tag == "failure" and (message.startswith("assert") or kind in _ASSERTION_KINDS)
            return f"{'assertion' if assertion else 'crash: ' + kind} in {name}"
    return f"crash: pytest exited {proc.returncode}"


def _run_book(slip: Slip, copy: Path, python: str) -> str:
    if not slip.chapter:
        return "not run"
    script = (
        "import json, sys, jupytext\n"
        "from nbclient import NotebookClient\n"
        "from nbclient.exceptions import CellExecutionError\n"
        "nb = jupytext.read(sys.argv[1])\n"
        "try:\n"
        "    NotebookClient(nb, kernel_name='python3', timeout=900,\n"
        "                   resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "    print(json.dumps({'ename': None}))\n"
        "except CellExecutionError as exc:\n"
        "    print(json.dumps({'ename': exc.ename, 'evalue': exc.evalue}))\n"
    )
    source = copy / "book" / f"{slip.chapter}.md"   # the chapter's one source (MyST, jupytext)
    proc = subprocess.run([python, "-c", script, str(source), str(source.parent)], cwd=copy, env=_env(copy),
                          capture_output=True, text=True, timeout=1800)
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return f"error: the runner failed ({proc.stderr.strip().splitlines()[-1:]})"
    if result["ename"] is None:
        return "survived"
    m = _FAILED_CHECK.search(result.get("evalue") or "")
    if result["ename"] == "VerificationError" and m:
        return f"✘ {m.group(1)}"
    return f"error: {result['ename']}: {(result.get('evalue') or '')[:120]}"


def apply(slip: Slip, root: Path) -> str:
    """Patch ``root/slip.file``; return the original text. Raises ValueError when ``old`` is not found once."""
    path = root / slip.file
    text = path.read_text(encoding="utf-8")
    if text.count(slip.old) != 1:
        raise ValueError(f"slip {slip.id}: the text to replace occurs {text.count(slip.old)} times in {slip.file}")
    path.write_text(text.replace(slip.old, slip.new), encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, metavar="ID", help="run only these slips")
    parser.add_argument("--no-book", action="store_true", help="skip the notebooks (unit tests only)")
    parser.add_argument("--no-unit", action="store_true", help="skip the unit tests (notebooks only)")
    parser.add_argument("--discover", action="store_true",
                        help="report what fails without asserting that it is the named check")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the project's requirements")
    parser.add_argument("--json", metavar="FILE", help="also write the outcomes as JSON")
    args = parser.parse_args(argv)
    slips = [s for s in SLIPS if args.only is None or s.id in args.only]
    if args.only is not None and len(slips) != len(set(args.only)):
        known = {s.id for s in SLIPS}
        print(f"error: unknown slip id(s): {', '.join(sorted(set(args.only) - known))}", file=sys.stderr)
        return 2
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="ddpm-slips-") as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(ROOT, copy, ignore=IGNORE)
        for slip in slips:
            t0 = time.perf_counter()
            original = apply(slip, copy)
            out = Outcome(slip)
            try:
                if not args.no_unit:
                    out.unit = _run_unit(slip, copy, args.python)
                if not args.no_book:
                    out.book = _run_book(slip, copy, args.python)
            finally:
                (copy / slip.file).write_text(original, encoding="utf-8")
            out.seconds = time.perf_counter() - t0
            outcomes.append(out)
            print(f"{slip.id:<34} unit: {out.unit:<60.60} book: {out.book:<40.40} {out.seconds:5.0f} s", flush=True)
    unit_caught = sum(o.unit.startswith("assertion") for o in outcomes if o.slip.tests and o.unit != "not run")
    unit_run = sum(1 for o in outcomes if o.slip.tests and o.unit != "not run")
    book_caught = sum(o.book_ok() for o in outcomes if o.slip.chapter and o.book != "not run")
    book_run = sum(1 for o in outcomes if o.slip.chapter and o.book != "not run")
    print(f"\nunit tests: {unit_caught} of {unit_run} slips failed an assertion")
    print(f"book: {book_caught} of {book_run} slips stopped the book on a named check")
    if args.json:
        Path(args.json).write_text(json.dumps([{"id": o.slip.id, "unit": o.unit, "book": o.book,
                                                "seconds": round(o.seconds, 1)} for o in outcomes], indent=1))
    if args.discover:
        return 0
    ok = [o for o in outcomes if (args.no_unit or o.unit_ok()) and (args.no_book or o.book_ok())]
    print(f"{len(ok)} passed, {len(outcomes) - len(ok)} failed")
    return 0 if len(ok) == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
