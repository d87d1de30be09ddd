#!/usr/bin/env bash
# GPU check (see benchmarks/gpu_check.py): training of the 2-D EpsMLP and the digits TinyUNet on CUDA in
# float32, bf16 autocast and torch.compile, loss curves against the CPU, steps/s and samples/s.
# Without CUDA it prints one line and exits 0.   bash benchmarks/gpu_check.sh [--device cpu --quick] [...]
# VENV=path/to/venv picks the interpreter (default .venv, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"; [ -x "$PY" ] || PY=python3
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" benchmarks/gpu_check.py "$@"
