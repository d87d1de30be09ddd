"""Hostile submissions against the sandboxed grader (needs bubblewrap; CI installs it).

A folder of notebooks built from the student edition of the Langevin chapter, each with one
trick (rebinding the checkers, patching torch, importing the reference, forging results,
rewriting other students' files through /proc, a detached writer, SIGKILL to the grader, a
fork bomb, a 2 GiB allocation, hostile file names, a symlink out of the folder, a broken
file), and honest neighbours. The grader must exit 0 with a complete CSV, no trick may pass,
every neighbour keeps its grade, and nothing outside the sandboxes may change.
"""
from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from ddpm_course.grading import main
from ddpm_course.grading.report import cell, escape_name
from ddpm_course.grading.sandbox import check_bwrap

import sys

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile.build import build  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(check_bwrap() is not None, reason="bubblewrap cannot run here")


def _digest(folder: Path) -> dict[str, str]:
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                out[p] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    subs, outside, instructor = base / "submissions", base / "outside", base / "instructor"
    instructor.mkdir()
    keep = instructor / "answers-key.txt"
    keep.write_text("the instructor's file\n")
    expect = build(subs, ROOT / "book", outside, keep, os.getpid())
    before = _digest(subs)
    scratch_before = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("ddpm-scratch-")}
    out = base / "results" / "grades.csv"
    cwd = os.getcwd()
    os.chdir(instructor)
    try:
        code = main([str(subs), "--out", str(out), "--jobs", "2", "--timeout", "40", "--probe-timeout", "20",
                     "--memory", "2G", "--max-procs", "96", "--seed", "12345"])
    finally:
        os.chdir(cwd)
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    scratch_after = {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("ddpm-scratch-")}
    return dict(code=code, rows=rows, expect=expect, before=before, after=_digest(subs), keep=keep,
                out=out, scratch_left=scratch_after - scratch_before)


def _by_id(rows):
    found = {}
    for r in rows:
        found.setdefault(r["submission"], []).append(r)
    return found


def test_grader_exits_0_with_a_row_for_every_submission(graded):
    assert graded["code"] == 0
    ids = _by_id(graded["rows"])
    for sid in graded["expect"]:
        assert cell(escape_name(sid)) in ids, f"no row for {sid!r}"
    assert len(ids) == len(graded["expect"])


def test_no_trick_passes(graded):
    ids = _by_id(graded["rows"])
    for sid, (kind, _, words) in graded["expect"].items():
        if kind != "trick":
            continue
        for r in ids[cell(escape_name(sid))]:
            assert r["result"] in ("fail", "error", "timeout"), (sid, r)
            assert r["passed"] == "0"
            if words:
                assert words in r["hint"], (sid, r["hint"])


def test_honest_neighbours_keep_their_grades(graded):
    ids = _by_id(graded["rows"])
    for sid, (kind, result, words) in graded["expect"].items():
        if kind == "honest":
            [r] = ids[sid]
            assert r["result"] == result, (sid, r)
            assert words in r["hint"], (sid, r["hint"])


def test_nothing_outside_the_sandboxes_changed(graded):
    assert graded["before"] == graded["after"], "a submission was rewritten"
    assert graded["keep"].read_text() == "the instructor's file\n"
    assert not graded["scratch_left"], f"scratch folders left behind: {graded['scratch_left']}"


def test_names_are_exact_unique_and_formula_safe(graded):
    ids = _by_id(graded["rows"])
    assert "caf\\xe9-undecodable.ipynb" in ids
    assert "'=1+2.ipynb" in ids and "=1+2.ipynb" not in ids
    assert {"alice.ipynb", "alice/langevin.ipynb", "alice/old/langevin.ipynb"} <= set(ids)
    assert {r["student"] for s in ("alice.ipynb", "alice/langevin.ipynb") for r in ids[s]} == {"alice"}
    for r in graded["rows"]:
        for value in r.values():
            assert value[:1] not in ("=", "+", "-", "@"), r


def test_the_symlink_is_refused_and_the_tricks_are_flagged(graded):
    ids = _by_id(graded["rows"])
    [r] = ids["linked-outside.ipynb"]
    assert r["result"] == "error" and "outside the submissions folder" in r["hint"]
    assert "assigns to a torch/numpy function" in ids["patch-allclose.ipynb"][0]["flags"]
    assert "refers to a reference solution" in ids["import-reference.ipynb"][0]["flags"]


def test_feedback_files_beside_the_csv(graded):
    folder = graded["out"].parent / "feedback"
    texts = [p.read_text(encoding="utf-8") for p in folder.iterdir()]
    assert len(texts) == len(graded["expect"])
    assert any("√h instead of √(2h)" in t and "mmm-sqrt-h.ipynb" in t for t in texts)
