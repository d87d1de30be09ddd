"""Audit: which public functions of ``ddpm_lib`` does the book exercise inside a check?

The book's promise is that a wrong step stops the page. For a library function that promise
holds only if some cell that *checks* something (emits a ✔/✘ record,
``application/vnd.ddpm-check+json``) runs that function, directly or through others. This
script executes every chapter in a fresh kernel with ``coverage`` recording, per cell, which
lines of ``ddpm_lib`` ran; a cell is a *check cell* when its outputs hold a check record.
Each public function or class of ``ddpm_lib`` (a module's ``__all__``, else its public
top-level names) is then:

* ``checked``: some line of its body ran in a check cell;
* ``book-only``: the book runs it, but in no check cell (a figure, a set-up): its result
  is not checked by the book, so it needs a check, a unit test that pins it and a reason
  (listed in ``EXCUSED``), or removal;
* ``not in book``: the book never runs it (the course tooling, the CLI or the benchmarks do;
  its unit tests are its checks);
* ``data``: a class without methods (a dataclass of results or settings): nothing to run.

    python tests/mutation/book_api_audit.py            # every chapter (about 5 CPU-minutes)
    python tests/mutation/book_api_audit.py langevin   # some chapters
    python tests/mutation/book_api_audit.py --json audit.json

Exits 1 when a public function of a mathematical module is ``book-only`` and not in
``EXCUSED``. The weekly mutation workflow runs it; the result of the last review is in
``tests/mutation/book_api_audit.md``.
"""
from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import inspect
import json
import pkgutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"

#: Public names the book runs outside check cells on purpose, with the reason: not mathematics
#: the book states (pinned by their unit tests instead), or run in a set-up cell whose result
#: a named later check depends on. (module, name): reason.
EXCUSED: dict[tuple[str, str], str] = {
    ("ddpm_lib.notebook", "setup"): "notebook set-up (threads, seeds, figure format); tests/test_notebook.py",
    ("ddpm_lib.notebook", "smallest_font_pt"): "figure metadata for the browser tests; tests/test_notebook.py",
    ("ddpm_lib.progress", "configure"): "progress bars; tests/test_progress.py",
    ("ddpm_lib.verify", "*"): "the checking helpers themselves; tests/test_verify.py",
    ("ddpm_lib.validation", "*"): "argument checks (bad input gets one clear error); their unit tests",
    ("ddpm_lib.notebook", "deterministic_algorithms"): "notebook set-up; tests/test_notebook.py",
    ("ddpm_lib.devices", "model_device"): "device plumbing of sample()/train(); tests/test_sampling.py",
    # run in a set-up cell whose result a later check depends on
    ("ddpm_lib.checkpoints", "load_checkpoint"): "ddpm_discrete's digit-samples-* checks sample the loaded model",
    ("ddpm_lib.checkpoints", "Checkpoint"): "ddpm_discrete's digit-samples-* checks sample the loaded model",
    ("ddpm_lib.models", "build_model"): "ddpm_discrete's digit-samples-* checks sample the model it builds",
    ("ddpm_lib.models", "TinyUNet"): "ddpm_discrete's digit-samples-* checks judge its samples",
    ("ddpm_lib.digits_quality", "DigitsJudge"): "its scores are what ddpm_discrete's digit-samples-* checks compare",
    ("ddpm_lib.digits_quality", "DigitsNet"): "its scores are what ddpm_discrete's digit-samples-* checks compare",
    ("ddpm_lib.digits_quality", "DigitsScore"): "its scores are what ddpm_discrete's digit-samples-* checks compare",
    ("ddpm_lib.metrics", "frechet_distance"): "ddpm_discrete's digit-samples-frechet compares its value; "
                                              "tests/test_digits_quality.py checks it against closed forms",
    ("ddpm_lib.evaluation", "eps_error_by_step"): "score_matching's eps-accurate-late and the first-step check "
                                                  "compare its values; tests/test_training.py pins it exactly",
    ("ddpm_lib.sampling", "sample"): "ddpm_discrete's digit-samples-* checks judge what it draws; "
                                     "tests/test_sampling.py",
}

_PRELUDE = """\
import coverage as _cov_mod, hashlib as _hl
from IPython import get_ipython as _gi
_cov = _cov_mod.Coverage(data_file={data!r}, source_pkgs=["ddpm_lib"], config_file=False)
_cov.start()
def _cov_ctx(info):
    _cov.switch_context("cell-" + _hl.sha1(info.raw_cell.encode()).hexdigest()[:16])
_gi().events.register("pre_run_cell", _cov_ctx)
"""
_EPILOGUE = "_cov.stop(); _cov.save()"


def cell_key(source: str) -> str:
    return "cell-" + hashlib.sha1(source.encode()).hexdigest()[:16]


def chapters() -> list[str]:
    from ddpm_course.ledger import chapter_notebooks

    return chapter_notebooks(ROOT)


def public_api() -> dict[tuple[str, str], tuple[str, int, int]]:
    """(module, name) → (file, first line, last line) of every public function and class."""
    import ddpm_lib

    api = {}
    for info in pkgutil.walk_packages(ddpm_lib.__path__, "ddpm_lib."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        mod = importlib.import_module(info.name)
        exported = getattr(mod, "__all__", None)
        for name, obj in vars(mod).items():
            if name.startswith("_") or (exported is not None and name not in exported):
                continue
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != info.name:
                continue
            obj = inspect.unwrap(obj)  # a decorated function (torch.no_grad): its own file, not the wrapper's
            lines, first = inspect.getsourcelines(obj)
            api[info.name, name] = (inspect.getsourcefile(obj), first, first + len(lines) - 1)
    return api


def body_lines(path: str, first: int, last: int) -> set[int]:
    """The executable lines of a def/class body (the signature and docstring excluded)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and first == min(
                [node.lineno] + [d.lineno for d in node.decorator_list]):
            out = set()
            # a class's own statements run when it is imported, in whatever cell: count its methods only
            scope = [m for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))] \
                if isinstance(node, ast.ClassDef) else [node]
            for stmt in (s for m in scope for s in ast.walk(m)):
                if isinstance(stmt, ast.stmt) and stmt not in scope and not (
                        isinstance(stmt, ast.Expr) and isinstance(getattr(stmt, "value", None), ast.Constant)):
                    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        out.add(stmt.lineno)
            return out
    return set(range(first + 1, last + 1))


def run_chapter(name: str, work: Path) -> tuple[set[str], Path]:
    """Execute ``book/<name>.ipynb`` under coverage; return (keys of its check cells, data file)."""
    import nbformat
    from nbclient import NotebookClient

    from ddpm_lib.check_format import RECORD_MIME

    data = work / f".coverage.{name}"
    nb = nbformat.read(BOOK / f"{name}.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_PRELUDE.format(data=str(data))))
    nb.cells.append(nbformat.v4.new_code_cell(_EPILOGUE))
    NotebookClient(nb, kernel_name="python3", timeout=900, resources={"metadata": {"path": str(BOOK)}}).execute()
    checks = {cell_key(c.source) for c in nb.cells[1:-1] if c.cell_type == "code"
              and any(RECORD_MIME in o.get("data", {}) for o in c.get("outputs", []))}
    return checks, data


def audit(names: list[str]) -> dict[str, dict]:
    from coverage import CoverageData

    api = public_api()
    bodies = {key: body_lines(*where) for key, where in api.items()}
    containers = {key for key, lines in bodies.items() if not lines}  # classes without methods (data)
    files = {path for path, _, _ in api.values()}
    seen: dict[tuple[str, str], dict[str, set[str]]] = {k: {"check": set(), "other": set()} for k in api}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            checks, data_file = run_chapter(name, Path(tmp))
            data = CoverageData(basename=str(data_file))
            data.read()
            for ctx in data.measured_contexts():
                if not ctx.startswith("cell-"):
                    continue
                data.set_query_contexts([ctx])  # one query per cell and file, not per function
                ran = {path: set(data.lines(str(Path(path).resolve())) or ()) for path in files}
                for key, (path, _, _) in api.items():
                    if bodies[key] & ran[path]:
                        seen[key]["check" if ctx in checks else "other"].add(name)
            data.set_query_contexts(None)
    report = {}
    for (mod, name), where in sorted(api.items()):
        s = seen[mod, name]
        status = "checked" if s["check"] else ("book-only" if s["other"] else "not in book")
        if (mod, name) in containers:
            status = "data"
        excused = EXCUSED.get((mod, name)) or EXCUSED.get((mod, "*"))
        report[f"{mod}.{name}"] = {"status": status, "checked_in": sorted(s["check"]),
                                   "run_in": sorted(s["other"] - s["check"]), "excused": excused}
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("chapters", nargs="*", help="chapter names (default: every notebook in _toc.yml)")
    p.add_argument("--json", type=Path, help="also write the report as JSON")
    args = p.parse_args(argv)
    names = args.chapters or chapters()
    unknown = [n for n in names if not (BOOK / f"{n}.ipynb").is_file()]
    if unknown:
        p.error(f"no notebook for {', '.join(unknown)}; chapters: {', '.join(chapters())}")
    sys.path.insert(0, str(ROOT))
    report = audit(names)
    counts: dict[str, int] = {}
    for name, r in report.items():
        counts[r["status"]] = counts.get(r["status"], 0) + 1
        where = ", ".join(r["checked_in"] or r["run_in"]) or "-"
        note = f"  (excused: {r['excused']})" if r["excused"] and r["status"] != "checked" else ""
        print(f"{r['status']:<12} {name:<55} {where}{note}")
    print(", ".join(f"{v} {k}" for k, v in sorted(counts.items())), f"of {len(report)} public names")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    gaps = [n for n, r in report.items() if r["status"] == "book-only" and not r["excused"]]
    if gaps:
        print(f"{len(gaps)} public function(s) the book runs but no check exercises: {', '.join(gaps)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
