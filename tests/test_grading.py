"""The grader's parts: names, CSV cells, atomic progress, resume, shards and merge, refusal without
bubblewrap; and one sandboxed run split into two shards and merged (needs bubblewrap).

The hostile submissions are in ``tests/test_grading_hostile.py``.
"""
from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import nbformat
import pytest

from ddpm_course.grading import cli, report, runner, sandbox, shard
from ddpm_course.grading.report import Row, cell, escape_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile.build import CORRECT, SQRT_H, notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def test_names_are_escaped_reversibly_and_formulas_neutralised():
    assert escape_name("caf\udce9.ipynb") == "caf\\xe9.ipynb"           # an undecodable byte
    assert escape_name("a\\xe9") == "a\\\\xe9"                          # never confused with one
    assert escape_name("new\nline") == "new\\x0aline"
    assert escape_name("café") == "café"
    for bad in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert cell(bad) == "'" + bad
    assert cell("alice") == "alice" and cell("") == ""


def _touch_nb(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(), str(path))


def test_submissions_have_unique_ids_and_links_are_refused(tmp_path):
    subs = tmp_path / "subs"
    for rel in ("alice.ipynb", "alice/langevin.ipynb", "alice/old/langevin.ipynb", "bob/.ipynb_checkpoints/x.ipynb"):
        _touch_nb(subs / rel)
    _touch_nb(tmp_path / "outside.ipynb")
    os.symlink(tmp_path / "outside.ipynb", subs / "evil.ipynb")
    os.symlink(tmp_path, subs / "dirlink")
    found = {s.id: s for s in shard.find_submissions(subs)}
    assert set(found) == {"alice.ipynb", "alice/langevin.ipynb", "alice/old/langevin.ipynb", "evil.ipynb", "dirlink"}
    assert {found[k].student for k in ("alice.ipynb", "alice/langevin.ipynb", "alice/old/langevin.ipynb")} == {"alice"}
    assert "outside the submissions folder" in found["evil.ipynb"].refused
    assert "symbolic link" in found["dirlink"].refused
    assert not found["alice.ipynb"].refused


def test_shards_partition_the_submissions(tmp_path):
    for k in range(40):
        _touch_nb(tmp_path / f"s{k:02d}.ipynb")
    subs = shard.find_submissions(tmp_path)
    parts = [[s.id for s in subs if shard.in_shard(s, k, 3)] for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(s.id for s in subs)
    assert all(parts) and parts == [[s.id for s in subs if shard.in_shard(s, k, 3)] for k in (1, 2, 3)]
    for bad in ("0/2", "3/2", "a/b", "2"):
        with pytest.raises(ValueError):
            shard.parse_shard(bad)


def _fake_grader(monkeypatch, stop_after: int | None = None):
    calls = []

    def fake(sub, expected, cfg, slot=0):
        calls.append(sub.id)
        if stop_after is not None and len(calls) > stop_after:
            raise KeyboardInterrupt  # the instructor's Ctrl-C (or a kill) mid-run
        return [Row(sub.id, sub.student, sub.notebook, "langevin-step", "pass" if "good" in sub.id else "fail", "h")]

    monkeypatch.setattr(runner, "grade_submission", fake)
    return calls


def test_csv_is_complete_after_each_submission_and_resume_skips_them(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    for name in ("a-good", "b-bad", "c-good", "d-bad"):
        _touch_nb(subs / f"{name}.ipynb")
    out = tmp_path / "grades.csv"
    _fake_grader(monkeypatch, stop_after=2)
    with pytest.raises(KeyboardInterrupt):
        cli.grade_folder(subs, out, runner.Config(), jobs=1, log=lambda *a: None)
    rows = report.read_csv(out)                     # a valid CSV with every finished submission
    assert [r["submission"] for r in rows] == ["a-good.ipynb", "b-bad.ipynb"]
    calls = _fake_grader(monkeypatch)
    rows = cli.grade_folder(subs, out, runner.Config(), jobs=2, resume=True, log=lambda *a: None)
    assert sorted(calls) == ["c-good.ipynb", "d-bad.ipynb"]
    assert [r["passed"] for r in sorted(rows, key=lambda r: r["submission"])] == ["1", "0", "1", "0"]
    assert len(list((tmp_path / "feedback").iterdir())) == 4


def test_merge_joins_and_rejects_conflicts(tmp_path):
    a, b, out = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "all.csv"
    report.write_csv([Row("x.ipynb", "x", "x.ipynb", "e", "pass").as_cells()], a)
    report.write_csv([Row("y.ipynb", "y", "y.ipynb", "e", "fail", "hint").as_cells()], b)
    assert shard.merge([a, b], out) == 2
    assert [r["submission"] for r in report.read_csv(out)] == ["x.ipynb", "y.ipynb"]
    report.write_csv([Row("x.ipynb", "x", "x.ipynb", "e", "fail").as_cells()], b)
    with pytest.raises(ValueError, match="differently"):
        shard.merge([a, b], out)
    assert cli.main(["merge", "--out", str(out), str(a), str(tmp_path / "missing.csv")]) == 2


def test_refuses_without_bubblewrap_unless_told(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    (tmp_path / "subs").mkdir()
    assert cli.main([str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bubblewrap" in err[0] and err[0].startswith("error:")


def test_bad_arguments_are_one_line_errors(tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli.main([str(tmp_path / "nope"), "--out", str(tmp_path / "g.csv")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        cli.main([str(tmp_path), "--shard", "3/2"])


@pytest.mark.skipif(sandbox.check_bwrap() is not None, reason="bubblewrap cannot run here")
def test_two_shards_graded_in_the_sandbox_merge_into_the_whole(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    answers = {"ann.ipynb": CORRECT, "ben.ipynb": SQRT_H, "cat.ipynb": None}
    for name, answer in answers.items():
        nbformat.write(notebook(ROOT / "book", answer), str(subs / name))
    parts = []
    for k in (1, 2):
        parts.append(tmp_path / f"grades-{k}.csv")
        assert cli.main([str(subs), "--out", str(parts[-1]), "--shard", f"{k}/2", "--seed", "7",
                         "--timeout", "60"]) == 0
    merged = tmp_path / "grades.csv"
    assert cli.main(["merge", "--out", str(merged), *map(str, parts)]) == 0
    with open(merged, encoding="utf-8", newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    assert {k: r["result"] for k, r in rows.items()} == {"ann.ipynb": "pass", "ben.ipynb": "fail", "cat.ipynb": "fail"}
    assert "√h instead of √(2h)" in rows["ben.ipynb"]["hint"]
    assert all(r["sandbox"] == "bwrap" for r in rows.values())
    assert cli.main([str(subs), "--out", str(merged), "--resume"]) == 0    # nothing left to grade
    assert len(report.read_csv(merged)) == 3


def test_without_the_sandbox_the_reference_import_would_pass(tmp_path):
    """The control for the hostile tests: the trick works when nothing hides the solutions, and
    the CSV says the run was unsandboxed."""
    subs = tmp_path / "subs"
    subs.mkdir()
    trick = "from ddpm_course.solutions.langevin import reference_langevin_step as langevin_step\n"
    nb = notebook(ROOT / "book", None, trick)
    nbformat.write(nb, str(subs / "cheat.ipynb"))
    out = tmp_path / "grades.csv"
    assert cli.main([str(subs), "--out", str(out), "--no-sandbox", "--timeout", "60", "--seed", "3"]) == 0
    [row] = report.read_csv(out)
    assert row["result"] == "pass" and row["sandbox"] == "none (--no-sandbox)"
    assert "refers to a reference solution" in row["flags"]


def test_what_comes_back_is_read_as_data_with_limits(tmp_path):
    from ddpm_course.grading import protocol

    out = tmp_path / "r.json"
    for raw, why in [(b"", "nothing"), (b"[" * 100000 + b"]" * 100000, "not a result"),
                     (b'{"version": 1, "status": "ok", "probes": {}, "probe_errors": {}, "verdict": "pass"}\n'
                      b'{"passed": true}', "not a result"),
                     (b"x" * (protocol.MAX_RESULT_BYTES + 1), "size limit")]:
        out.write_bytes(raw)
        doc, msg = protocol.read_result(out)
        assert doc is None and why in msg
    doc = {"version": 1, "status": "ok", "message": "", "probe_errors": {},
           "probes": {"langevin-step": {"cases": [{"out": {"kind": "tensor", "shape": [2], "values": ["a", 1]}}] * 3}}}
    assert protocol.verdicts(["langevin-step"], doc, 0)["langevin-step"][0] in ("fail", "error")
    doc["probes"]["langevin-step"] = {"cases": "pass"}
    assert protocol.verdicts(["langevin-step"], doc, 0)["langevin-step"][0] == "fail"
    doc["probes"]["langevin-step"] = {"missing": "langevin_step"}
    assert protocol.verdicts(["langevin-step"], doc, 0)["langevin-step"] == (
        "fail", "the notebook defines no function langevin_step")
