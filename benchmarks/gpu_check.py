"""GPU check: train the 2-D EpsMLP (ring mixture) and the digits TinyUNet on CUDA in float32, with bf16
autocast and with ``torch.compile``; check each loss curve against the CPU float32 one; print steps/s
and samples/s (prints figures; not a test).

Every random draw of training comes from a CPU generator (``ddpm_lib.training``), so a run on the GPU
sees the same minibatches, steps and noise as the CPU reference; only the arithmetic differs. The
check: the mean minibatch loss over the last ``--tail`` (default 25 %) of the steps agrees with the
CPU run's within ``--tol`` (default 5 %; the mean over ~10³ minibatches has a Monte-Carlo spread well
under 1 %, and two float32 runs diverge only through rounding, so a larger gap is a real difference).
steps/s is timed after the first 20 % of the steps (compilation and warm-up excluded); samples/s
is one call of ``ddpm_lib.sampling.sample`` (its default sampler) and of the 1000-step ancestral sampler.

Without CUDA (``--device cuda``, the default) it prints one line and exits 0. ``--device cpu --quick``
runs every part on the CPU in seconds (the CPU "device" against the CPU reference) so it can be tested.

    python benchmarks/gpu_check.py                       # on a machine with an NVIDIA GPU, ~3-5 minutes
    python benchmarks/gpu_check.py --device cpu --quick  # the same code on the CPU, small
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import torch

from ddpm_lib.data import make_dataset
from ddpm_lib.models import EpsMLP, TinyUNet
from ddpm_lib.samplers import ddpm_ancestral
from ddpm_lib.sampling import sample
from ddpm_lib.schedules import linear_schedule
from ddpm_lib.training import TrainConfig, train

MODES = {"float32": {"amp": "off", "compile": False}, "bf16": {"amp": "bf16", "compile": False},
         "compile": {"amp": "off", "compile": True}, "compile+bf16": {"amp": "bf16", "compile": True}}


@dataclass
class Case:
    name: str
    make: type
    data: torch.Tensor
    batch: int
    steps: int
    shape: tuple[int, ...]
    n_samples: int


def run(case: Case, schedule, device: str, mode: str, log_every: int) -> tuple[list[float], float, torch.nn.Module]:
    """Train ``case`` on ``device`` in ``mode``: (per-step losses, steps/s after the first 20 %, the EMA model)."""
    torch.manual_seed(0)
    marks: dict[int, float] = {}
    skip = max(log_every, (case.steps // 5) // log_every * log_every)

    def tick(state) -> None:
        if state.step >= skip:
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            marks[state.step] = time.perf_counter()

    cfg = TrainConfig(steps=case.steps, batch_size=case.batch, device=device, progress=False, log_every=log_every,
                      **MODES[mode])
    res = train(case.make(n_steps=schedule.n), case.data, schedule, cfg, callback=tick, callback_every=log_every)
    k = sorted(marks)
    sps = (k[-1] - k[0]) / (marks[k[-1]] - marks[k[0]]) if len(k) > 1 else float("nan")
    return res.history["loss"], sps, res.ema_model


def tail_mean(losses: list[float], frac: float) -> float:
    k = max(1, int(len(losses) * frac))
    return sum(losses[-k:]) / k


def samples_per_second(model, schedule, n: int, shape: tuple[int, ...], device: str, ancestral: bool) -> float:
    g = torch.Generator(device=device).manual_seed(0)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    t0 = time.perf_counter()
    if ancestral:
        with torch.no_grad():
            x = ddpm_ancestral(model, torch.randn((n,) + shape, generator=g, device=device), schedule, generator=g)
    else:
        x = sample(model, schedule, n, shape, generator=g)
    sync()
    dt = time.perf_counter() - t0
    if not bool(torch.isfinite(x).all()):
        raise FloatingPointError("non-finite samples")
    return n / dt


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", help="cuda (default), cuda:k or cpu")
    p.add_argument("--quick", action="store_true", help="few steps and samples (a smoke test of the script)")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    p.add_argument("--tol", type=float, default=0.05, help="relative tolerance on the tail-mean loss (default 0.05)")
    p.add_argument("--tail", type=float, default=0.25, help="fraction of the last steps averaged (default 0.25)")
    args = p.parse_args()
    if not (0 < args.tol < 1 and 0 < args.tail <= 1):
        print("error: --tol must lie in (0, 1) and --tail in (0, 1]", file=sys.stderr)
        return 2
    dev = args.device
    if dev.startswith("cuda") and not torch.cuda.is_available():
        why = "a CPU-only build" if torch.version.cuda is None else "no CUDA device visible"
        print(f"gpu_check: skipped: no CUDA (torch {torch.__version__}, {why}); "
              f"run `python benchmarks/gpu_check.py --device cpu --quick` to exercise the script on the CPU")
        return 0
    if not (dev == "cpu" or dev.startswith("cuda")):
        print(f"error: --device must be cuda, cuda:k or cpu, got {dev!r}", file=sys.stderr)
        return 2
    torch.set_num_threads(1 if args.quick else torch.get_num_threads())
    q = args.quick
    ring = make_dataset("ring", 50_000, generator=torch.Generator().manual_seed(1))
    digits = make_dataset("digits", None)
    cases = [Case("EpsMLP/ring", EpsMLP, ring, 256 if q else 1024, 40 if q else 3000, (2,), 200 if q else 5000),
             Case("TinyUNet/digits", TinyUNet, digits, 32 if q else 128, 10 if q else 1000, (1, 8, 8),
                  8 if q else 1000)]
    schedule = linear_schedule(100 if q else 1000)
    log_every = 5 if q else 50
    name = torch.cuda.get_device_name(torch.device(dev)) if dev.startswith("cuda") else "CPU"
    bf16 = torch.cuda.is_bf16_supported() if dev.startswith("cuda") else True
    print(f"gpu_check on {name} ({dev}); torch {torch.__version__}; bf16 supported: {bf16}; "
          f"tolerance {args.tol:.0%} on the mean loss of the last {args.tail:.0%} of the steps")
    failures = 0
    for case in cases:
        cpu_losses, cpu_sps, _ = run(case, schedule, "cpu", "float32", log_every)
        ref = tail_mean(cpu_losses, args.tail)
        print(f"\n{case.name}: {case.steps} steps at batch {case.batch}; CPU float32 reference: "
              f"tail loss {ref:.4f}, {cpu_sps:.0f} steps/s ({torch.get_num_threads()} threads)")
        modes = args.modes
        if q and case.make is TinyUNet:  # compiling the U-Net on a CPU takes minutes: not in a smoke test
            modes = [m for m in modes if not MODES[m]["compile"]]
            print("  (the compile modes of the U-Net are skipped in --quick)")
        for mode in modes:
            try:
                losses, sps, ema = run(case, schedule, dev, mode, log_every)
                fast = samples_per_second(ema, schedule, case.n_samples, case.shape, dev, ancestral=False)
                anc = samples_per_second(ema, schedule, case.n_samples, case.shape, dev, ancestral=True)
            except Exception as exc:  # report and go on (e.g. torch.compile without a C++ compiler)
                failures += 1
                msg = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
                print(f"  {mode:13s} FAILED: {type(exc).__name__}: {msg}")
                continue
            tail = tail_mean(losses, args.tail)
            rel = tail / ref - 1
            ok = abs(rel) <= args.tol
            failures += not ok
            print(f"  {mode:13s} tail loss {tail:.4f} ({rel:+.2%} vs CPU: {'ok' if ok else 'MISMATCH'})  "
                  f"{sps:8.0f} steps/s  sampling {fast:9.0f} samples/s (sample() default), "
                  f"{anc:8.0f} samples/s (ancestral, {schedule.n} steps)", flush=True)
    print(f"\ngpu_check: {'all checks passed' if not failures else f'{failures} check(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
