#!/usr/bin/env bash
# GPU check: train the EpsMLP (ring mixture) and the TinyUNet (digits) on CUDA for a fixed
# number of steps and print throughput and final loss. Needs a CUDA GPU; exits 1 without one.
#   bash benchmarks/gpu_check.sh [steps]        (VENV=path/to/venv, default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="$VENV/bin/python"; [ -x "$PY" ] || PY=python3
STEPS="${1:-3000}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" - "$STEPS" <<'PY'
import sys, time
import torch
from ddpm_lib.data import make_dataset
from ddpm_lib.models import EpsMLP, TinyUNet
from ddpm_lib.schedules import linear_schedule
from ddpm_lib.sampling import sample
from ddpm_lib.training import TrainConfig, train

steps = int(sys.argv[1])
if not torch.cuda.is_available():
    print("no CUDA device: nothing to check", file=sys.stderr)
    sys.exit(1)
print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; bf16 {torch.cuda.is_bf16_supported()}")
schedule = linear_schedule(1000)
cases = [("EpsMLP / mixture", EpsMLP, make_dataset("mixture", 50_000, torch.Generator().manual_seed(1)), 256, (2,)),
         ("TinyUNet / digits", TinyUNet, make_dataset("digits", None), 256, (1, 8, 8))]
for name, cls, data, batch, shape in cases:
    for compile_ in (False, True):
        torch.manual_seed(0)
        cfg = TrainConfig(steps=steps, batch_size=batch, device="cuda", amp="auto", compile=compile_,
                          progress=False, log_every=500)
        try:
            r = train(cls(), data, schedule, cfg)
        except Exception as exc:  # report and go on (e.g. torch.compile missing a compiler)
            print(f"{name:18s} compile={compile_!s:5s}  FAILED: {type(exc).__name__}: {exc}")
            continue
        h = r.history
        last = sum(h["loss"][-200:]) / min(200, len(h["loss"]))
        t0 = time.perf_counter()
        x = sample(r.ema_model, schedule, 5000 if shape == (2,) else 256, shape,
                   generator=torch.Generator(device="cuda").manual_seed(0))
        torch.cuda.synchronize()
        sps = x.shape[0] / (time.perf_counter() - t0)
        ok = bool(torch.isfinite(x).all())
        print(f"{name:18s} compile={compile_!s:5s}  {h['steps_per_second']:8.0f} steps/s  final loss {last:.4f}  "
              f"sampling {sps:8.0f} samples/s  finite={ok}")
PY
