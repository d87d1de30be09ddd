#!/usr/bin/env bash
# The student edition, in one command (into $STUDENT_OUT, default _build/student):
#   html/       the book with every {solution} hidden, every reference-solution cell (tag
#               `solution`) replaced by a stub, and the page sources offered for download
#               (html/_sources) scrubbed of both;
#   notebooks/  the chapters' notebooks to hand out: solution cells stubbed (signature and
#               docstring kept, comments dropped, `raise NotImplementedError(...)`), {solution}
#               blocks removed, checker cells kept, outputs cleared;
#   package/    the installable ddpm_lib + ddpm_course without ddpm_course/solutions
#               (`pip install package/`); the in-notebook checks compare with stored data.
# It ends by searching all three for any line of a solution and fails if one is found.
# The student config is generated from _config.yml (sphinx config hide_solutions: true), so
# _config.yml stays the one place to edit. Uses the venv in $VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no virtual environment at $VENV: run scripts/setup_and_build.sh first" >&2; exit 2; }
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONHASHSEED=0 MPLBACKEND=Agg
OUT="${STUDENT_OUT:-_build/student}"
rm -rf "$OUT"
mkdir -p "$OUT"
[ -f _static/mathjax/tex-chtml.js ] || "$PY" _ext/mathjax_local.py --install
"$PY" -m ddpm_course.student notebooks "$OUT/notebooks" book
"$PY" -m ddpm_course.student source . "$OUT/src"
"$VENV/bin/jupyter-book" build "$OUT/src" -W -n --keep-going --path-output "$OUT/src"
mv "$OUT/src/_build/html" "$OUT/html"
rm -rf "$OUT/src"
"$PY" -m ddpm_course.student scrub "$OUT/html"
"$PY" -m ddpm_course.student package . "$OUT/package"
"$PY" -m ddpm_course.student leaks "$OUT" book
echo "student book:      $OUT/html/index.html"
echo "student notebooks: $OUT/notebooks/"
echo "student package:   $OUT/package/ (pip install $OUT/package)"
