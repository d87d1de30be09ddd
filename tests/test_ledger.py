"""Tests of ddpm_course.ledger: reading the verification ledger out of stored notebook outputs."""
from __future__ import annotations

import json

import nbformat
import pytest

from ddpm_course import ledger
from ddpm_lib import verify


# -- small synthetic notebooks (outputs as verify stores them: a line and its record) ------
def md(text):
    return nbformat.v4.new_markdown_cell(text)


def rec(name, claim, method="symbolic", kind="check"):
    """A display output of one check, as verify shows it in a kernel."""
    payload = {"type": "check", "chapter": "c", "name": name, "claim": claim, "method": method, "kind": kind,
               "status": "unchecked" if kind == "unchecked" else "passed"}
    return nbformat.v4.new_output("display_data", data={"text/plain": f"✔ {name}: {claim} [{method}]",
                                                        verify.RECORD_MIME: payload})


def summ(passed, run, chapter, unchecked=0):
    payload = {"type": "summary", "chapter": chapter, "passed": passed, "run": run, "unchecked": unchecked}
    return nbformat.v4.new_output("display_data", data={"text/plain": f"{passed} of {run} checks",
                                                        verify.RECORD_MIME: payload})


def text(*lines):
    return nbformat.v4.new_output("stream", name="stdout", text="".join(line + "\n" for line in lines))


def code(source, *outputs, count=1):
    cell = nbformat.v4.new_code_cell(source, execution_count=count)
    cell.outputs = list(outputs)
    return cell


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def good_notebook():
    return notebook(
        md("# The OU process\n\nSome prose."),
        code('g = setup("OU")', count=1),
        md("## Mean and variance"),
        code("verify.symbolic_zero(...)", rec("ou-mean", "the mean decays like e^{-t/2}"), count=2),
        code("verify.close(...)", text("some other output"),
             rec("ou-var", "Var[x_t] = 1 − e^{−t} on [0, T]", "numeric, tolerance 1e-12: float rounding"),
             text("more text"), count=3),
        md("## Summary"),
        code("verify.summary(expected=2)", summ(2, 2, "OU"), count=4),
    )


# -- whole notebooks ----------------------------------------------------------------------
def test_good_notebook():
    led = ledger.parse_notebook(good_notebook(), "ou.ipynb")
    assert led.problems == []
    assert led.chapter == "OU" and led.summary == (2, 2) and led.uses_verify
    assert [r.name for r in led.records] == ["ou-mean", "ou-var"]
    r = led.records[1]
    assert r.claim == "Var[x_t] = 1 − e^{−t} on [0, T]"
    assert r.method == "numeric, tolerance 1e-12: float rounding"
    assert (r.cell_index, r.section, r.anchor, r.status, r.kind) == (4, "Mean and variance", "check-ou-var",
                                                                    "passed", "check")


def test_text_lines_without_records_are_not_read():
    """Only records count: a check line printed as text (say, by hand) is not a verified claim."""
    nb = notebook(code("print(...)", text("✔ fake: printed by hand [symbolic]")),
                  code("verify.summary()", summ(0, 0, "c")))
    led = ledger.parse_notebook(nb)
    assert led.records == [] and led.problems == []


def test_wrong_variant_record_and_duplicate_names_get_distinct_anchors():
    nb = notebook(
        code("verify.x()", rec("Same Name", "one"), rec("Same Name", "two"),
             rec("w", "σ² = β", "wrong variant", kind="wrong variant")),
        code("verify.summary()", summ(3, 3, "c")),
    )
    led = ledger.parse_notebook(nb)
    assert [r.anchor for r in led.records] == ["check-same-name", "check-same-name-2", "check-w"]
    w = led.records[2]
    assert (w.kind, w.claim, w.shown_status) == ("wrong variant", "σ² = β", "wrong variant")


def test_headings_inside_fences_are_ignored():
    nb = notebook(
        md("# Title\n\n```python\n# not a heading\n```\n:::{note}\n## nor this\n:::\n"),
        code("verify.x()", rec("a", "b")),
        code("verify.summary()", summ(1, 1, "c")),
    )
    assert ledger.parse_notebook(nb).records[0].section == "Title"


def test_section_titles_lose_inline_markup():
    nb = notebook(md("## `000.txt` — *A note*"), code("verify.x()", rec("a", "b")),
                  code("verify.summary()", summ(1, 1, "c")))
    assert ledger.parse_notebook(nb).records[0].section == "000.txt — A note"


def test_notebook_without_verify_needs_no_summary():
    led = ledger.parse_notebook(notebook(md("# Intro"), code("print(1)", text("1"))))
    assert led.problems == [] and not led.uses_verify and led.records == []
    assert led.chapter == "Intro"


# -- the failure cases ---------------------------------------------------------------------
def test_missing_summary_is_a_problem():
    nb = good_notebook()
    nb.cells = nb.cells[:-1]
    (p,) = ledger.parse_notebook(nb, "x.ipynb").problems
    assert "no summary" in p and "x.ipynb" in p


def test_verify_call_without_output_still_needs_summary():
    nb = notebook(code("verify.symbolic_zero('a', 0, 'b')", count=1))
    (p,) = ledger.parse_notebook(nb).problems
    assert "no summary" in p


def test_fewer_passed_than_run_is_a_problem():
    nb = good_notebook()
    nb.cells[-1] = code("verify.summary()", summ(1, 2, "OU"), count=4)
    probs = ledger.parse_notebook(nb).problems
    assert any("1 of 2 checks passed" in p for p in probs)


def test_unexecuted_code_cell_is_a_problem():
    nb = good_notebook()
    nb.cells.insert(2, code("x = 1", count=None))
    probs = ledger.parse_notebook(nb).problems
    assert len(probs) == 1 and "1 code cell was saved unexecuted (cell 3," in probs[0]
    nb.cells.insert(4, code("y = 2", count=None))
    (p,) = ledger.parse_notebook(nb).problems
    assert "2 code cells were saved unexecuted (cells 3, 5," in p


def test_empty_unexecuted_cell_is_fine():
    nb = good_notebook()
    nb.cells.append(code("   \n", count=None))
    assert ledger.parse_notebook(nb).problems == []


def test_count_mismatch_is_a_problem():
    nb = good_notebook()
    nb.cells[3].outputs = []          # one check's record lost
    probs = ledger.parse_notebook(nb).problems
    assert len(probs) == 1 and "1 check records are stored but the summary counts 2" in probs[0]


def test_error_output_is_a_problem_unless_tagged():
    nb = good_notebook()
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    assert any("ValueError: bad" in p for p in ledger.parse_notebook(nb).problems)
    nb.cells[1].metadata["tags"] = ["raises-exception"]
    assert ledger.parse_notebook(nb).problems == []


def test_read_notebook_from_disk(tmp_path):
    path = tmp_path / "ch.ipynb"
    nbformat.write(good_notebook(), str(path))
    assert [r.name for r in ledger.read_notebook(path).records] == ["ou-mean", "ou-var"]
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    assert "cannot read" in ledger.read_notebook(bad).problems[0]
    path.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert ledger.read_notebook(path).problems == []


# -- anchors and the toc -------------------------------------------------------------------
@pytest.mark.parametrize("name,slug", [("ou-mean", "ou-mean"), ("FP ½ factor!", "fp-factor"), ("∂∂", "x")])
def test_slugify(name, slug):
    assert ledger.slugify(name) == slug


def test_toc_files_order():
    toc = {"format": "jb-book", "root": "book/intro",
           "parts": [{"caption": "Main", "chapters": [{"file": "book/notation"},
                                                      {"file": "book/ou_forward.ipynb",
                                                       "sections": [{"file": "book/sub"}]}]},
                     {"caption": "Appendices", "chapters": [{"file": "book/appendix_errata"},
                                                            {"file": "book/ledger"}, {"file": "book/notation"}]}]}
    assert ledger.toc_files(toc) == ["book/intro", "book/notation", "book/ou_forward", "book/sub",
                                     "book/appendix_errata", "book/ledger"]


def test_chapter_notebooks_are_the_toc_pages_with_a_notebook_in_order(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n- file: book/b\n"
                                       "- file: book/a.ipynb\n- file: book/notes\n- file: other/c\n", encoding="utf-8")
    (tmp_path / "book").mkdir()
    (tmp_path / "other").mkdir()
    for name in ("book/intro.md", "book/a.ipynb", "book/b.ipynb", "book/notes.md", "other/c.ipynb", "book/z.ipynb"):
        (tmp_path / name).write_text("{}", encoding="utf-8")
    assert ledger.chapter_notebooks(tmp_path) == ["b", "a"]


# -- structured records (what verify stores in a notebook) ------------------------------------
def _kernel_outputs(monkeypatch, run):
    """Run ``run()`` as if in a kernel and return the display outputs verify made, as nbformat outputs."""
    shown = []
    monkeypatch.setattr(verify, "_in_kernel", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    chapter = verify._state["chapter"]
    verify.reset()
    verify.set_chapter("Round trip")
    try:
        run()
    finally:
        verify.reset()
        verify.set_chapter(chapter)
    return [nbformat.v4.new_output("display_data", data=d) for d in shown]


def test_verify_records_round_trip_through_a_notebook(monkeypatch):
    def run():
        verify.symbolic_zero("s", 0, "x − x = 0 for x in [a, b]")
        with verify.wrong_variant("w", "Var[x] = 2"):
            verify.holds("inner", False, "never")
        verify.unchecked("u", "the tail bound", reason="needs a concentration inequality")
        verify.summary(expected=2)

    outs = _kernel_outputs(monkeypatch, run)
    assert all(set(o["data"]) == {"text/plain", verify.RECORD_MIME} for o in outs)
    assert outs[0]["data"]["text/plain"] == "✔ s: x − x = 0 for x in [a, b] [symbolic]"
    assert outs[-1]["data"]["text/plain"] == ("2 of 2 checks in 'Round trip' passed. "
                                              "1 stated step is not checked.")
    nb = notebook(md("# Round trip"), code("verify.x()", *outs[:-1]),
                  code("verify.summary(expected=2)", *outs[-1:]))
    led = ledger.parse_notebook(nb)
    assert led.problems == [] and led.summary == (2, 2) and led.n_unchecked == 1
    assert [(r.name, r.kind, r.shown_status) for r in led.records] == [
        ("s", "check", "passed"), ("w", "wrong variant", "wrong variant"), ("u", "unchecked", "unchecked")]
    assert led.records[1].claim == "Var[x] = 2"
    assert led.records[2].reason == "needs a concentration inequality"


def test_records_not_text_are_read(monkeypatch):
    outs = _kernel_outputs(monkeypatch, lambda: (verify.holds("a", True, "claim a"), verify.summary()))
    outs[0]["data"]["text/plain"] = "anything a reader sees"     # the ledger does not parse it
    led = ledger.parse_notebook(notebook(code("verify.x()", *outs)))
    assert led.problems == [] and [r.claim for r in led.records] == ["claim a"]


def test_lost_record_is_a_problem(monkeypatch):
    outs = _kernel_outputs(monkeypatch, lambda: (verify.holds("a", True, "a"), verify.holds("b", True, "b"),
                                                 verify.summary()))
    led = ledger.parse_notebook(notebook(code("verify.x()", outs[0], outs[2])))
    (p,) = led.problems
    assert "1 check records are stored but the summary counts 2" in p
