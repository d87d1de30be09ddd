#!/usr/bin/env bash
# Re-execute chapters after editing their MyST source: book/<name>.md -> book/<name>.ipynb.
#   bash scripts/execute_chapters.sh langevin ou_forward     # some chapters
#   bash scripts/execute_chapters.sh                         # every paired chapter
# Each runs in a fresh kernel in book/, one thread, PYTHONHASHSEED=0 (as nbval does in CI),
# and the executed notebook is written beside its source with the pairing kept.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1
if [ $# -eq 0 ]; then
  mapfile -t names < <(grep -l "formats: ipynb,md:myst" book/*.md | xargs -n1 basename | sed 's/\.md$//')
else
  names=("$@")
fi
for name in "${names[@]}"; do
  src="book/${name%.md}.md"
  [ -f "$src" ] || { echo "error: no chapter source $src" >&2; exit 2; }
  t0=$SECONDS
  "$VENV/bin/jupytext" --sync --execute --quiet "$src"
  echo "executed $src -> book/${name%.md}.ipynb in $((SECONDS - t0)) s"
done
