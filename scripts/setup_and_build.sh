#!/usr/bin/env bash
# On a fresh machine with Python 3.11: create .venv, install everything pinned in
# requirements.txt (ddpm_lib included, editable) and build the book into _build/html.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
if ! command -v bwrap >/dev/null; then   # the grader's sandbox (Debian package bubblewrap)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "note: install bubblewrap (apt-get install bubblewrap) to grade submissions in a sandbox" >&2
  fi
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements.txt
"$VENV/bin/python" -m ipykernel install --user --name python3 >/dev/null
"$VENV/bin/python" _ext/mathjax_local.py --install   # MathJax for offline math (needs npm; else the CDN)
rm -rf _build
"$VENV/bin/jupyter-book" build . -W -n --keep-going
echo "The book is in _build/html/index.html"
