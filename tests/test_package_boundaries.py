"""The import graph: ddpm_lib (the mathematics) never imports ddpm_course (the course tooling), and the
ledger that the book's Sphinx extension loads imports no torch."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_math_package_never_imports_the_course_tooling():
    offenders = []
    for path in sorted((ROOT / "ddpm_lib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "ddpm_course"]
    assert not offenders, offenders


def test_the_ledger_loads_without_torch():
    code = "import sys, ddpm_course.ledger, ddpm_lib.check_format; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False", "importing the ledger loaded torch"
