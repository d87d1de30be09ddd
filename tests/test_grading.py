"""The grader on tiny synthetic submissions: correct, wrong, crashing, looping, malformed.

The exercise and its checker are synthetic (defined in the notebooks' first cell), so
the test does not depend on the chapters' exercises.
"""
from __future__ import annotations

import csv
import json

import nbformat
import pytest

from ddpm_course import grading

SETUP = '''from ddpm_course.exercises import Feedback, register, check

@register("test-ex-square")
def _checker(fn):
    if fn(3) == 9:
        return Feedback("test-ex-square", True, "squares correctly")
    if fn(3) == 6:
        return Feedback("test-ex-square", False, "you doubled x instead of squaring it")
    return Feedback("test-ex-square", False, f"square(3) should be 9, got {fn(3)!r}")

@register("test-ex-cube")
def _cube_checker(fn):
    ok = fn(2) == 8
    return Feedback("test-ex-cube", ok, "cubes correctly" if ok else "cube(2) should be 8")
'''


def _nb(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


CHECK_SQUARE = 'check("test-ex-square", square)'
CHECK_CUBE = 'check("test-ex-cube", cube)'


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("subs")
    nbformat.write(_nb("def square(x):\n    return x * x", CHECK_SQUARE, "def cube(x):\n    return x**3", CHECK_CUBE),
                   subs / "alice.ipynb")
    # a wrong answer, and a stub that raises (a failed Feedback, not a crash)
    nbformat.write(_nb("def square(x):\n    return 2 * x", CHECK_SQUARE,
                       "def cube(x):\n    raise NotImplementedError('Exercise: write your answer here')", CHECK_CUBE),
                   subs / "bob.ipynb")
    # crashes before defining square (NameError in the checker cell), cube still graded
    nbformat.write(_nb("1 / 0", CHECK_SQUARE, "def cube(x):\n    return x**3", CHECK_CUBE), subs / "carol.ipynb")
    # one folder per student also works; square graded, then an endless loop before cube
    (subs / "erin").mkdir()
    nbformat.write(_nb("def square(x):\n    return x * x", CHECK_SQUARE, "while True:\n    pass",
                       "def cube(x):\n    return x**3", CHECK_CUBE), subs / "erin" / "chapter.ipynb")
    (subs / "frank.ipynb").write_text("{ this is not json", encoding="utf-8")
    out = subs / "grades.csv"
    assert grading.main([str(subs), "--out", str(out), "--timeout", "15", "--jobs", "2"]) == 0
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {(r["student"], r["exercise"]): r for r in rows}, rows


def test_submissions_are_found(tmp_path):
    (tmp_path / "zoe").mkdir()
    (tmp_path / "zoe" / ".ipynb_checkpoints").mkdir()
    for p in ("amy.ipynb", "zoe/ch1.ipynb", "zoe/.ipynb_checkpoints/ch1-checkpoint.ipynb", "notes.txt"):
        (tmp_path / p).write_text("{}")
    assert [(s, p.name) for s, p in grading.find_submissions(tmp_path)] == [("amy", "amy.ipynb"), ("zoe", "ch1.ipynb")]


def test_checker_calls_are_found():
    nb = _nb(CHECK_SQUARE, "x = 1\ncheck('test-ex-cube', cube)  # again: check(\"test-ex-square\", f)")
    assert grading.checker_ids(nb) == ["test-ex-square", "test-ex-cube"]


def test_correct_and_wrong_answers(graded):
    by, _ = graded
    assert by["alice", "test-ex-square"]["result"] == "pass"
    assert by["alice", "test-ex-cube"]["result"] == "pass"
    assert by["bob", "test-ex-square"]["result"] == "fail"
    assert "doubled" in by["bob", "test-ex-square"]["hint"]
    assert by["bob", "test-ex-square"]["passed"] == "0" and by["alice", "test-ex-square"]["passed"] == "1"


def test_a_crash_still_grades_the_cells_that_ran(graded):
    by, _ = graded
    assert by["carol", "test-ex-square"]["result"] == "not run"
    assert "NameError" in by["carol", "test-ex-square"]["hint"]
    assert by["carol", "test-ex-cube"]["result"] == "pass"


def test_a_stub_fails_with_feedback(graded):
    by, _ = graded
    row = by["bob", "test-ex-cube"]
    assert row["result"] == "fail" and "NotImplementedError" in row["hint"]


def test_an_endless_loop_times_out_and_keeps_what_ran(graded):
    by, _ = graded
    assert by["erin", "test-ex-square"]["result"] == "pass"
    assert by["erin", "test-ex-square"]["notebook"] == "chapter.ipynb"
    assert by["erin", "test-ex-cube"]["result"] == "timeout"
    assert "15 s" in by["erin", "test-ex-cube"]["hint"]


def test_a_malformed_file_gets_a_row_and_the_others_are_graded(graded):
    by, rows = graded
    frank = [r for r in rows if r["student"] == "frank"]
    assert frank and all(r["result"] == "malformed" for r in frank)
    assert {r["exercise"] for r in frank} == {"test-ex-square", "test-ex-cube"}
    assert {r["student"] for r in rows} == {"alice", "bob", "carol", "erin", "frank"}


def test_check_logs_for_the_grader(tmp_path, monkeypatch):
    from ddpm_course.exercises import CHECKERS, Feedback, check, register

    register("test-ex-log")(lambda fn: Feedback("test-ex-log", fn() == 1, "hint text"))
    try:
        log = tmp_path / "log.jsonl"
        monkeypatch.setenv("DDPM_GRADING_LOG", str(log))
        check("test-ex-log", lambda: 1)
        check("test-ex-log", lambda: 1 / 0)
        lines = [json.loads(x) for x in log.read_text().splitlines()]
        assert lines[0] == {"exercise": "test-ex-log", "passed": True, "hint": "hint text"}
        assert lines[1]["passed"] is False and "ZeroDivisionError" in lines[1]["hint"]
    finally:
        CHECKERS.pop("test-ex-log", None)
