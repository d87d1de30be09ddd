#!/usr/bin/env bash
# Run every test of the project: unit tests, every notebook under nbval, and the book
# built from scratch with warnings as errors. Uses the venv in $VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no virtual environment at $VENV: run scripts/setup_and_build.sh first" >&2; exit 2; }
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1
stage() { local name=$1; shift; local t0=$SECONDS; echo "=== $name"; "$@"; echo "=== $name took $((SECONDS - t0)) s"; }

stage "unit tests" "$PY" -m pytest -q -n 2 tests
mapfile -t notebooks < <(ls book/*.ipynb book/**/*.ipynb 2>/dev/null | sort -u)
stage "notebooks (nbval)" "$PY" -m pytest -q -p no:randomly --nbval --nbval-current-env \
  --nbval-sanitize-with .ci/nbval_sanitize.cfg -n 2 --dist loadscope "${notebooks[@]}"
build_book() {
  "$PY" _ext/mathjax_local.py --install   # MathJax into _static/mathjax (offline math); CDN without npm
  rm -rf _build && "$VENV/bin/jupyter-book" build . -W -n --keep-going
}
stage "book build (-W -n)" build_book
browser_tests() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "SKIPPED: no /usr/bin/chromium + /usr/bin/chromedriver (Debian/Ubuntu: apt-get install chromium chromium-driver; .ci/run installs them)"
    return 0
  fi
  DDPM_BROWSER_TESTS=1 "$PY" -m pytest -q -p no:randomly tests/browser
  echo "screenshots of every page: _build/screenshots/"
}
stage "browser tests" browser_tests
student_edition() { VENV="$VENV" bash scripts/student_edition.sh >/dev/null && echo "student edition built: _build/student/"; }
stage "student edition" student_edition
