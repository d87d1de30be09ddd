"""The ledger page in a real (tiny) Sphinx build: sections per chapter, and -W fails on an unchecked step."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
MIME = "application/vnd.ddpm-check+json"


def _notebook(chapter: str, *records: dict) -> nbformat.NotebookNode:
    outs = [nbformat.v4.new_output("display_data", data={"text/plain": f"✔ {r['name']}", MIME: r}) for r in records]
    checks = [r for r in records if r["kind"] != "unchecked"]
    summary = {"type": "summary", "chapter": chapter, "passed": len(checks), "run": len(checks),
               "unchecked": len(records) - len(checks)}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {chapter}\n\n## The step"),
                nbformat.v4.new_code_cell("verify.holds(...)", execution_count=1, outputs=outs),
                nbformat.v4.new_code_cell("verify.summary()", execution_count=2, outputs=[
                    nbformat.v4.new_output("display_data", data={"text/plain": "summary", MIME: summary})])]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _rec(name, claim, kind="check"):
    return {"type": "check", "chapter": "c", "name": name, "claim": claim, "method": "symbolic", "kind": kind,
            "status": "unchecked" if kind == "unchecked" else "passed",
            **({"reason": "read off a plot"} if kind == "unchecked" else {})}


def _build(tmp_path, allow: list[str]) -> subprocess.CompletedProcess:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / '_ext')!r})\n"
        "extensions = ['myst_nb', 'ledger']\nnb_execution_mode = 'off'\n"
        f"ledger_allow_unchecked = {allow!r}\nsuppress_warnings = ['mystnb.unknown_mime_type']\n")
    (src / "index.md").write_text("# Book\n\n```{toctree}\nch1\nch2\nledger\n```\n")
    (src / "ledger.md").write_text("# Ledger\n\n```{verification-ledger}\n```\n")
    nbformat.write(_notebook("Chapter one", _rec("a", "x_t = e^{-t/2} x_0"),
                             _rec("w", "Var = 2", "wrong variant")), str(src / "ch1.ipynb"))
    nbformat.write(_notebook("Chapter two", _rec("b", "b"), _rec("u", "the slope is -1", "unchecked")),
                   str(src / "ch2.ipynb"))
    return subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT)


def test_unchecked_step_in_a_chapter_fails_the_build(tmp_path):
    proc = _build(tmp_path, allow=[])
    assert proc.returncode != 0
    assert "ch2.ipynb: 1 stated step has no check (u)" in proc.stderr


def test_ledger_page_groups_by_chapter_and_filters(tmp_path):
    proc = _build(tmp_path, allow=["ch2"])
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "ledger.html").read_text(encoding="utf-8")
    assert 'id="ledger-ch1"' in page and 'id="ledger-ch2"' in page
    assert "2 of 2 checks passed (1 of them reject a wrong variant); 0 unchecked steps." in page
    assert "1 of 1 checks passed (0 of them reject a wrong variant); 1 unchecked step." in page
    assert 'data-status="ledger-status-unchecked"' in page and "unchecked (1)" in page
    assert 'href="ch1.html#check-a"' in page                      # each claim links to its cell
    assert "e<sup>−t/2</sup>" in page and "x<sub>0</sub>" in page  # the claim typeset
    assert "<table" not in page
    assert 'id="check-a"' in (tmp_path / "out" / "ch1.html").read_text(encoding="utf-8")
