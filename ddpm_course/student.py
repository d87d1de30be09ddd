"""The student edition: notebooks without the reference solutions.

* :func:`stub_source` turns the source of a reference-solution cell into a stub: every
  function keeps its ``def`` line(s), decorators and docstring, and its body becomes
  ``raise NotImplementedError("Exercise: write your answer here")``; imports stay; any
  other code goes. A cell without a function becomes the bare ``raise``.
* :func:`strip_solution_markdown` removes ``{solution}`` directives (backtick or colon
  fences, and ``{solution-start}`` … ``{solution-end}`` blocks) from markdown.
* :func:`student_notebook` applies both to a notebook: every cell tagged ``solution`` is
  stubbed, checker cells are kept, outputs are cleared.

``scripts/student_edition.sh`` builds the student book and notebooks with these::

    python -m ddpm_course.student notebooks OUT_DIR BOOK_DIR      # student notebooks
    python -m ddpm_course.student source SRC_DIR DEST_DIR          # a book copy for the HTML build
    python -m ddpm_course.student scrub HTML_DIR                   # solutions out of _sources/ (downloads)
    python -m ddpm_course.student package SRC_DIR DEST_DIR         # the package, without ddpm_course/solutions
    python -m ddpm_course.student leaks EDITION_DIR [BOOK_DIR]     # exit 1 if a solution line is found
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
import shutil
import sys
from pathlib import Path

__all__ = ["STUB", "SOLUTION_TAG", "stub_source", "strip_solution_markdown", "student_notebook",
           "write_student_notebooks", "make_student_source", "main"]

STUB = 'raise NotImplementedError("Exercise: write your answer here")'
SOLUTION_TAG = "solution"
CHECK_CALL = re.compile(r"\bcheck\(")


def _is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _without_comments(lines: list[str]) -> list[str]:
    """``lines`` with every ``#`` comment removed (a comment in a solution may give the answer away)."""
    import io
    import tokenize

    cuts: dict[int, int] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            if tok.type == tokenize.COMMENT:
                cuts[tok.start[0] - 1] = tok.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):  # an unfinished header: whole-line comments only
        cuts = {k: line.index("#") for k, line in enumerate(lines) if line.lstrip().startswith("#")}
    out = []
    for k, line in enumerate(lines):
        kept = line[:cuts[k]].rstrip() if k in cuts else line
        if kept.strip():
            out.append(kept)
    return out


def _stub_def(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, lines: list[str]) -> list[str]:
    """Source lines of ``node`` with its body replaced (functions) or its methods stubbed (classes)."""
    start = min([d.lineno for d in node.decorator_list] + [node.lineno])
    first = node.body[0]
    if first.lineno == node.lineno:  # `def f(x): return x` on one line: rebuild it from the AST
        if isinstance(node, ast.ClassDef):
            return lines[start - 1: node.end_lineno]
        clone = copy.deepcopy(node)
        clone.body = ([first] if _is_docstring(first) else []) + [ast.parse(STUB).body[0]]
        text = ast.unparse(clone).replace(ast.unparse(ast.parse(STUB)), STUB)
        return [" " * node.col_offset + line for line in text.splitlines()]
    out = _without_comments(lines[start - 1: first.lineno - 1])  # decorators + header, no solution comments
    body_indent = " " * first.col_offset
    rest = node.body
    if _is_docstring(first):
        out += lines[first.lineno - 1: first.end_lineno]
        rest = node.body[1:]
    if isinstance(node, ast.ClassDef):
        kept = [s for s in rest if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        for stmt in kept:
            out += _stub_def(stmt, lines)
        if not kept and not _is_docstring(first):
            out.append(body_indent + "pass")
        return out
    out.append(body_indent + STUB)
    return out


def stub_source(source: str) -> str:
    """The stub of a reference-solution cell (see the module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # cell magics and the like: nothing to keep
        return f"# Exercise: write your answer here\n{STUB}\n"
    lines = source.splitlines()
    blocks: list[list[str]] = []
    has_def = False
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            blocks.append(lines[node.lineno - 1: node.end_lineno])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            has_def = True
            blocks.append(_stub_def(node, lines))
    if not has_def:
        blocks.append(["# Exercise: write your answer here", STUB])
    text, prev_import = [], False
    for block in blocks:
        is_import = len(block) >= 1 and block[0].lstrip().startswith(("import ", "from "))
        if text and not (is_import and prev_import):
            text.append("")
            if not is_import:
                text.append("")
        text += block
        prev_import = is_import
    return "\n".join(text).strip("\n") + "\n"


_OPEN = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w:-]+)\}")


def strip_solution_markdown(text: str) -> str:
    """Remove ``{solution}`` directives and ``{solution-start}``…``{solution-end}`` blocks."""
    lines = text.splitlines(keepends=True)
    out, i, removed = [], 0, False
    while i < len(lines):
        m = _OPEN.match(lines[i])
        if m and m.group("name") in ("solution", "solution-start"):
            fence = m.group("fence")
            closing = re.compile(r"^\s*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
            j = i + 1
            while j < len(lines) and not closing.match(lines[j]):
                j += 1
            if m.group("name") == "solution-start":  # gated: drop through the {solution-end} block
                k = j + 1
                while k < len(lines):
                    m2 = _OPEN.match(lines[k])
                    if m2 and m2.group("name") == "solution-end":
                        j = k + 1
                        while j < len(lines) and not re.match(r"^\s*" + re.escape(m2.group("fence")[0]) + "{3,}\\s*$", lines[j]):
                            j += 1
                        break
                    k += 1
            i = j + 1
            removed = True
            continue
        out.append(lines[i])
        i += 1
    result = "".join(out)
    return re.sub(r"\n{3,}", "\n\n", result) if removed else result


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def student_notebook(nb, clear_outputs: bool = True, strip_markdown: bool = True):
    """A copy of ``nb`` for students: solution cells stubbed, outputs cleared, markdown solutions removed.

    With ``clear_outputs=False`` (the HTML student book) only the stubbed cells and the
    checker cells lose their outputs; the rest keep theirs.
    """
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            is_solution = SOLUTION_TAG in _tags(cell)
            if is_solution:
                cell["source"] = stub_source(cell.get("source", ""))
            if clear_outputs or is_solution or CHECK_CALL.search(cell.get("source", "")):
                cell["outputs"] = []
                cell["execution_count"] = None
        elif cell.get("cell_type") == "markdown" and strip_markdown:
            cell["source"] = strip_solution_markdown(cell.get("source", ""))
    return nb


def write_student_notebooks(book_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Student versions of every ``*.ipynb`` under ``book_dir`` written under ``out_dir``."""
    import nbformat

    book_dir, out_dir = Path(book_dir), Path(out_dir)
    written = []
    for src in sorted(book_dir.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in src.parts or "_build" in src.parts:
            continue
        dest = out_dir / src.relative_to(book_dir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(nbformat.read(str(src), as_version=4)), str(dest))
        written.append(dest)
    return written


_COPY_IGNORE = shutil.ignore_patterns("_build", ".git", ".venv*", "node_modules", "__pycache__",
                                      ".ipynb_checkpoints", ".hypothesis", "runs", "_static")


def make_student_source(src: str | Path, dest: str | Path) -> None:
    """Copy the book's sources to ``dest`` with the notebooks' solution cells stubbed (outputs
    kept elsewhere) and ``_config.yml`` set to hide solutions; ``_static`` is linked, not copied."""
    import nbformat
    import yaml

    src, dest = Path(src).resolve(), Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=_COPY_IGNORE)
    if (src / "_static").is_dir():
        (dest / "_static").symlink_to(src / "_static", target_is_directory=True)
    for nb_path in dest.rglob("*.ipynb"):
        nb = nbformat.read(str(nb_path), as_version=4)
        nbformat.write(student_notebook(nb, clear_outputs=False, strip_markdown=False), str(nb_path))
    config = yaml.safe_load((src / "_config.yml").read_text(encoding="utf-8"))
    config["title"] = f"{config.get('title', 'Book')} (student edition)"
    sphinx_cfg = config.get("sphinx") or {}
    config["sphinx"] = sphinx_cfg
    base = dict(sphinx_cfg.get("config") or {})
    # the stubbed solution cells are unexecuted on purpose: the ledger's check of that is for the full book
    suppress = list(base.get("suppress_warnings") or []) + ["ledger.verification"]
    sphinx_cfg["config"] = dict(base, hide_solutions=True, suppress_warnings=suppress)
    header = "# GENERATED by scripts/student_edition.sh from _config.yml: edit that file, not this one.\n"
    (dest / "_config.yml").write_text(header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True),
                                      encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ddpm_course.student", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("notebooks", help="write student notebooks (solutions stubbed, outputs cleared)")
    p.add_argument("out_dir")
    p.add_argument("book_dir", nargs="?", default="book")
    p = sub.add_parser("source", help="copy the book with solutions stubbed and hidden, for the HTML build")
    p.add_argument("src_dir")
    p.add_argument("dest_dir")
    p = sub.add_parser("package", help="the installable package without ddpm_course/solutions")
    p.add_argument("src_dir")
    p.add_argument("dest_dir")
    p = sub.add_parser("scrub", help="strip solutions from the built HTML's _sources (download copies)")
    p.add_argument("html_dir")
    p = sub.add_parser("leaks", help="exit 1 if any file under EDITION_DIR holds a line of a solution")
    p.add_argument("edition_dir")
    p.add_argument("book_dir", nargs="?", default="book")
    args = ap.parse_args(argv)
    from .student_release import find_leaks, make_student_package, scrub_sources

    if args.cmd == "package":
        print(f"student package in {make_student_package(args.src_dir, args.dest_dir)}")
        return 0
    if args.cmd == "scrub":
        print(f"{scrub_sources(args.html_dir)} page sources scrubbed")
        return 0
    if args.cmd == "leaks":
        leaks = find_leaks(args.edition_dir, args.book_dir)
        for leak in leaks[:20]:
            print(f"leak: {leak}")
        print(f"{len(leaks)} solution lines found in {args.edition_dir}")
        return 1 if leaks else 0
    if args.cmd == "notebooks":
        written = write_student_notebooks(args.book_dir, args.out_dir)
        print(f"{len(written)} student notebooks in {args.out_dir}")
    else:
        make_student_source(args.src_dir, args.dest_dir)
        print(f"student sources in {args.dest_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
