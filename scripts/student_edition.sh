#!/usr/bin/env bash
# The student edition, in one command:
#   _build/student/html/       the book with every {solution} hidden and every reference-solution
#                              cell (tag `solution`) replaced by a stub;
#   _build/student/notebooks/  the chapters' notebooks to hand out: solution cells stubbed
#                              (`raise NotImplementedError(...)`, signatures and docstrings kept),
#                              {solution} blocks removed, checker cells kept, outputs cleared.
# The student config is generated from _config.yml (sphinx config hide_solutions: true), so
# _config.yml stays the one place to edit. Uses the venv in $VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no virtual environment at $VENV: run scripts/setup_and_build.sh first" >&2; exit 2; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONHASHSEED=0 MPLBACKEND=Agg
OUT=_build/student
rm -rf "$OUT"
mkdir -p "$OUT"
[ -f _static/mathjax/tex-chtml.js ] || "$PY" _ext/mathjax_local.py --install
"$PY" -m ddpm_course.student notebooks "$OUT/notebooks" book
"$PY" -m ddpm_course.student source . "$OUT/src"
"$VENV/bin/jupyter-book" build "$OUT/src" -W -n --keep-going --path-output "$OUT/src"
mv "$OUT/src/_build/html" "$OUT/html"
rm -rf "$OUT/src"
echo "student book:      $OUT/html/index.html"
echo "student notebooks: $OUT/notebooks/"
