"""The student edition's notebook transformation."""
from __future__ import annotations

import ast

import nbformat
import yaml

from ddpm_course import student, student_release
from ddpm_course.student import STUB, strip_solution_markdown, stub_source, student_notebook

SOLUTION = '''import torch

SCALE = 2.0

@torch.no_grad()
def vp_forward(x0, i,
               eps, betas):
    """Return x_i = sqrt(abar_i) x0 + sqrt(1 - abar_i) eps."""
    ab = torch.prod(1 - betas[:i])
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps

def one_liner(x): return 2 * x

print(vp_forward)
'''


def test_functions_keep_signature_and_docstring():
    out = stub_source(SOLUTION)
    tree = ast.parse(out)  # valid Python
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert set(funcs) == {"vp_forward", "one_liner"}
    assert [a.arg for a in funcs["vp_forward"].args.args] == ["x0", "i", "eps", "betas"]
    assert ast.get_docstring(funcs["vp_forward"]).startswith("Return x_i")
    assert "@torch.no_grad()" in out and "import torch" in out
    assert out.count(STUB) == 2
    for secret in ("torch.prod", "ab.sqrt", "2 * x", "SCALE", "print("):
        assert secret not in out, secret


def test_the_stub_raises_not_implemented():
    ns: dict = {}
    exec(stub_source("def f(x):\n    '''Doc.'''\n    return x + 1\n"), ns)
    try:
        ns["f"](1)
    except NotImplementedError as exc:
        assert "Exercise" in str(exc)
    else:
        raise AssertionError("the stub must raise")


def test_cells_without_functions_and_unparsable_cells():
    assert stub_source("x = 1 + 1\nprint(x)").strip().endswith(STUB)
    assert "x = 1" not in stub_source("x = 1 + 1\nprint(x)")
    assert stub_source("%%time\nanswer = 42").strip().endswith(STUB)
    assert "42" not in stub_source("%%time\nanswer = 42")


def test_classes_keep_method_signatures():
    out = stub_source("class M:\n    '''Doc.'''\n    k = 3\n    def forward(self, x):\n        return x * self.k\n")
    assert "def forward(self, x):" in out and "x * self.k" not in out and "'''Doc.'''" in out
    ast.parse(out)


def test_markdown_solutions_are_removed():
    md = ("Intro.\n\n```{exercise}\n:label: ex1\nProve it.\n```\n\n"
          "````{solution} ex1\n:class: dropdown\n\n```{math}\nx = 1\n```\nSECRET ONE\n````\n\n"
          ":::{solution} ex2\nSECRET TWO\n:::\n\nAfter.\n")
    out = strip_solution_markdown(md)
    assert "SECRET" not in out and "{solution}" not in out
    assert "{exercise}" in out and "Prove it." in out and "After." in out
    assert strip_solution_markdown("no solutions here\n") == "no solutions here\n"


def _book_notebook():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("```{exercise}\n:label: ex-a\nWrite f.\n```\n\n```{solution} ex-a\n:class: dropdown\nf is x+1\n```"),
        nbformat.v4.new_code_cell("import math\nprint(math.pi)", outputs=[nbformat.v4.new_output("stream", text="3.14\n")],
                                  execution_count=1),
        nbformat.v4.new_code_cell("def f(x):\n    '''Add one.'''\n    return x + 1", metadata={"tags": ["solution"]},
                                  execution_count=2),
        nbformat.v4.new_code_cell('check("ex-a", f)', execution_count=3,
                                  outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "correct"})]),
    ]
    return nb


def test_student_notebook():
    nb = _book_notebook()
    out = student_notebook(nb)
    assert "f is x+1" not in out.cells[0].source and "Write f." in out.cells[0].source
    assert out.cells[1].source == "import math\nprint(math.pi)"             # other code kept
    assert "return x + 1" not in out.cells[2].source and STUB in out.cells[2].source
    assert "def f(x):" in out.cells[2].source and "Add one." in out.cells[2].source
    assert out.cells[2].metadata["tags"] == ["solution"]
    assert out.cells[3].source == 'check("ex-a", f)'                         # checker kept
    assert all(c.outputs == [] and c.execution_count is None for c in out.cells if c.cell_type == "code")
    nbformat.validate(out)
    assert "return x + 1" in nb.cells[2].source                              # the input is untouched
    html = student_notebook(nb, clear_outputs=False, strip_markdown=False)   # the HTML edition's copy
    assert html.cells[1].outputs and not html.cells[2].outputs and not html.cells[3].outputs


def test_written_notebooks_and_student_source(tmp_path):
    repo = tmp_path / "repo"
    (repo / "book").mkdir(parents=True)
    (repo / "_static").mkdir()
    nbformat.write(_book_notebook(), str(repo / "book" / "ch.ipynb"))
    (repo / "_config.yml").write_text("title: My book\nsphinx:\n  config:\n    mathjax3_config: {}\n")
    (repo / "_toc.yml").write_text("format: jb-book\nroot: book/ch\n")
    written = student.write_student_notebooks(repo / "book", tmp_path / "nbs")
    assert [p.name for p in written] == ["ch.ipynb"]
    assert STUB in nbformat.read(str(written[0]), as_version=4).cells[2].source
    assert student.main(["source", str(repo), str(tmp_path / "src")]) == 0
    cfg = yaml.safe_load((tmp_path / "src" / "_config.yml").read_text())
    assert cfg["sphinx"]["config"]["hide_solutions"] is True
    assert cfg["sphinx"]["config"]["mathjax3_config"] == {}
    assert "student edition" in cfg["title"]
    assert (tmp_path / "src" / "_static").is_symlink()
    copied = nbformat.read(str(tmp_path / "src" / "book" / "ch.ipynb"), as_version=4)
    assert STUB in copied.cells[2].source and copied.cells[1].outputs
    assert "return x + 1" in nbformat.read(str(repo / "book" / "ch.ipynb"), as_version=4).cells[2].source


def test_stubs_drop_every_comment_of_the_solution():
    out = stub_source("def langevin_step(x, score, h, z):  # the answer: x + h s\n"
                      "    # x + h s(x) + sqrt(2h) z\n    return x + h * score(x)\n"
                      "def g(a,  # a hint in the header\n      b):\n    '''Doc.'''\n    # secret\n    return a\n")
    assert "#" not in out and "sqrt(2h)" not in out and "hint" not in out
    assert '"""Doc."""' in out or "'''Doc.'''" in out
    ast.parse(out)


def test_book_stubs_give_nothing_away():
    nb = student_notebook(nbformat.read("book/langevin.ipynb", as_version=4))
    [stub] = [c for c in nb.cells if c.cell_type == "code" and "def langevin_step" in c.source]
    assert "sqrt" not in stub.source and "#" not in stub.source and STUB in stub.source


def test_scrub_removes_solutions_from_downloadable_sources(tmp_path):
    src = tmp_path / "_sources" / "book"
    src.mkdir(parents=True)
    nb = nbformat.read("book/langevin.ipynb", as_version=4)
    nbformat.write(nb, str(src / "langevin.ipynb"))
    (src / "page.md").write_text("Text.\n\n```{solution} ex\nThe secret answer is 42.\n```\n", encoding="utf-8")
    leaks_before = student_release.find_leaks(tmp_path, "book")
    assert leaks_before, "the leak search must find the unscrubbed solutions"
    assert student_release.scrub_sources(tmp_path) == 2
    assert "secret" not in (src / "page.md").read_text(encoding="utf-8")
    assert student_release.find_leaks(tmp_path, "book") == []


def test_student_package_has_no_solutions(tmp_path):
    pkg = student_release.make_student_package(".", tmp_path / "package")
    assert (pkg / "ddpm_course" / "exercises" / "data" / "langevin-step.json").is_file()
    assert not (pkg / "ddpm_course" / "solutions").exists()
    text = "\n".join(p.read_text(encoding="utf-8") for p in pkg.rglob("*.py"))
    assert "def reference_" not in text and "def kl_reference" not in text
