"""Tests of ddpm_course.ledger: reading the verification ledger out of stored notebook outputs."""
from __future__ import annotations

import json

import nbformat
import pytest

from ddpm_course import ledger
from ddpm_lib import verify


# -- small synthetic notebooks --------------------------------------------------------
def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(source, *lines, count=1, outputs=None):
    cell = nbformat.v4.new_code_cell(source, execution_count=count)
    if outputs is not None:
        cell.outputs = outputs
    elif lines:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="".join(l + "\n" for l in lines))]
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
        code("verify.symbolic_zero(...)", "✔ ou-mean: the mean decays like e^{-t/2} [symbolic]", count=2),
        code("verify.close(...)", "some other output",
             "✔ ou-var: Var[x_t] = 1 − e^{−t} on [0, T] [numeric, tolerance 1e-12: float rounding]",
             "more text", count=3),
        md("## Summary"),
        code("verify.summary(expected=2)", "2 of 2 checks in 'OU' passed.", count=4),
    )


# -- line parsing -----------------------------------------------------------------------
def test_check_line_simple():
    assert ledger.parse_check_line("✔ a: b [symbolic]") == ("a", "b", "symbolic")


def test_check_line_claim_with_brackets():
    line = "✔ fp-half: E[x_t] solves ∂p = −∂[f p] + ½∂²[σ² p] on [0, T] [symbolic]"
    assert ledger.parse_check_line(line) == ("fp-half", "E[x_t] solves ∂p = −∂[f p] + ½∂²[σ² p] on [0, T]",
                                             "symbolic")


def test_check_line_method_with_brackets_and_colons():
    line = "✔ n: claim: with colon [numeric, tolerance 1e-06: grid error O(h²) [trapezoid]]"
    assert ledger.parse_check_line(line) == ("n", "claim: with colon",
                                             "numeric, tolerance 1e-06: grid error O(h²) [trapezoid]")


def test_check_line_whitespace_and_non_checks():
    assert ledger.parse_check_line("   ✔ a: b [m]  \r") == ("a", "b", "m")
    assert ledger.parse_check_line("a: b [m]") is None            # no check mark
    assert ledger.parse_check_line("✔ a: b") is None              # no method
    assert ledger.parse_check_line("✔ a b [m]") is None           # no name separator
    assert ledger.parse_check_line("✔ : b [m]") is None           # empty name


def test_check_line_agrees_with_verify(capsys):
    """The parser reads back exactly what verify prints, for every kind of check."""
    chapter = verify._state["chapter"]
    verify.reset()
    verify.set_chapter("t")
    verify.symbolic_zero("s", 0, "x − x = 0 for x in [a, b]")
    verify.close("c", 1.0, 1.0, "E[x] = 1", atol=1e-9, why="rounding [float64]")
    with verify.wrong_variant("w", "Var[x] = 2"):
        verify.holds("inner", False, "never")
    out = capsys.readouterr().out.splitlines()
    parsed = [ledger.parse_check_line(line) for line in out]
    assert parsed == [
        ("s", "x − x = 0 for x in [a, b]", "symbolic"),
        ("c", "E[x] = 1", "numeric, tolerance 1e-09: rounding [float64]"),
        ("w", "the wrong variant is rejected: Var[x] = 2", "wrong variant"),
    ]
    verify.reset()
    verify.set_chapter(chapter)


def test_summary_line():
    assert ledger.parse_summary_line("12 of 13 checks in 'Errata: it's [hard]' passed.") == (
        12, 13, "Errata: it's [hard]")
    assert ledger.parse_summary_line("12 of 13 checks passed") is None


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


def test_line_split_across_stream_outputs_and_list_sources():
    nb = notebook(
        code(["verify.holds(", "...)"], outputs=[
            nbformat.v4.new_output("stream", name="stdout", text=["✔ a: claim ", "[num"]),
            nbformat.v4.new_output("stream", name="stdout", text="eric]\n"),
            nbformat.v4.new_output("stream", name="stderr", text="✔ fake: not stdout [x]\n"),
        ]),
        code("verify.summary(expected=1)", "1 of 1 checks in 'c' passed."),
    )
    led = ledger.parse_notebook(nb)
    assert led.problems == []
    assert [(r.name, r.claim, r.method) for r in led.records] == [("a", "claim", "numeric")]


def test_wrong_variant_record_and_duplicate_names_get_distinct_anchors():
    nb = notebook(
        code("verify.x()", "✔ Same Name: one [symbolic]", "✔ Same Name: two [symbolic]",
             "✔ w: the wrong variant is rejected: σ² = β [wrong variant]"),
        code("verify.summary()", "3 of 3 checks in 'c' passed."),
    )
    led = ledger.parse_notebook(nb)
    assert [r.anchor for r in led.records] == ["check-same-name", "check-same-name-2", "check-w"]
    w = led.records[2]
    assert (w.kind, w.claim) == ("wrong variant", "σ² = β")


def test_headings_inside_fences_are_ignored():
    nb = notebook(
        md("# Title\n\n```python\n# not a heading\n```\n:::{note}\n## nor this\n:::\n"),
        code("verify.x()", "✔ a: b [m]"),
        code("verify.summary()", "1 of 1 checks in 'c' passed."),
    )
    assert ledger.parse_notebook(nb).records[0].section == "Title"


def test_section_titles_lose_inline_markup():
    nb = notebook(md("## `000.txt` — *A note*"), code("verify.x()", "✔ a: b [m]"),
                  code("verify.summary()", "1 of 1 checks in 'c' passed."))
    assert ledger.parse_notebook(nb).records[0].section == "000.txt — A note"


def test_notebook_without_verify_needs_no_summary():
    led = ledger.parse_notebook(notebook(md("# Intro"), code("print(1)", "1")))
    assert led.problems == [] and not led.uses_verify and led.records == []
    assert led.chapter == "Intro"


# -- the failure cases ---------------------------------------------------------------------
def test_missing_summary_is_a_problem():
    nb = good_notebook()
    nb.cells = nb.cells[:-1]
    (p,) = ledger.parse_notebook(nb, "x.ipynb").problems
    assert "no summary line" in p and "x.ipynb" in p


def test_verify_call_without_output_still_needs_summary():
    nb = notebook(code("verify.symbolic_zero('a', 0, 'b')", count=1, outputs=[]))
    (p,) = ledger.parse_notebook(nb).problems
    assert "no summary line" in p


def test_fewer_passed_than_run_is_a_problem():
    nb = good_notebook()
    nb.cells[-1] = code("verify.summary()", "1 of 2 checks in 'OU' passed.", count=4)
    probs = ledger.parse_notebook(nb).problems
    assert any("1 of 2 checks passed" in p for p in probs)


def test_unexecuted_code_cell_is_a_problem():
    nb = good_notebook()
    nb.cells.insert(2, code("x = 1", count=None, outputs=[]))
    probs = ledger.parse_notebook(nb).problems
    assert len(probs) == 1 and "1 code cell was saved unexecuted (cell 3," in probs[0]
    nb.cells.insert(4, code("y = 2", count=None, outputs=[]))
    (p,) = ledger.parse_notebook(nb).problems
    assert "2 code cells were saved unexecuted (cells 3, 5," in p


def test_empty_unexecuted_cell_is_fine():
    nb = good_notebook()
    nb.cells.append(code("   \n", count=None, outputs=[]))
    assert ledger.parse_notebook(nb).problems == []


def test_count_mismatch_is_a_problem():
    nb = good_notebook()
    nb.cells[3].outputs = []          # one check line lost
    probs = ledger.parse_notebook(nb).problems
    assert len(probs) == 1 and "1 check lines are stored but the summary counts 2" in probs[0]


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
