"""Benchmark: the TinyUNet on the 8×8 scikit-learn digits, one CPU thread (prints figures; not a test).

Throughput of the library loop vs a plain hand-written loop (alternating rounds, best of each),
samples/s of ``ddpm_lib.sampling.sample`` vs a plain ancestral loop, a training run, and a grid of
64 samples written as a PNG to ``--out`` (default /tmp).

    python benchmarks/train_digits.py [--steps 1500] [--batch 128] [--out /tmp]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ddpm_course.cli import _plot_samples
from ddpm_lib.data import make_dataset
from ddpm_lib.models import TinyUNet, count_parameters
from ddpm_lib.schedules import linear_schedule
from ddpm_lib.sampling import sample
from ddpm_lib.training import TrainConfig, train

from _plain import compare_training_throughput, plain_sample_loop  # benchmarks/ is on sys.path when run as a script


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default="/tmp")
    args = p.parse_args()
    torch.set_num_threads(1)
    schedule = linear_schedule(1000)
    sched32 = schedule.to(dtype=torch.float32)
    data = make_dataset("digits", None)
    print(f"TinyUNet: {count_parameters(TinyUNet())} parameters; {data.shape[0]} digits; batch {args.batch}; "
          f"1 CPU thread; torch {torch.__version__}")
    plain, lib = compare_training_throughput(TinyUNet, data, schedule, 60, args.batch, args.lr, args.rounds,
                                             warmup_steps=5, log_every=20)
    print(f"training: plain loop {max(plain):.1f} steps/s, library loop {max(lib):.1f} steps/s, "
          f"ratio {max(lib) / max(plain):.2f} (target >= 0.9)")
    m = TinyUNet().eval()
    _, plain_sps = plain_sample_loop(m, sched32, 64, (1, 8, 8))
    t0 = time.perf_counter()
    sample(m, schedule, 64, (1, 8, 8), generator=torch.Generator().manual_seed(0))
    lib_sps = 64 / (time.perf_counter() - t0)
    print(f"sampling 64 images, 1000 steps: plain {plain_sps:.1f} samples/s, library {lib_sps:.1f} samples/s, "
          f"ratio {lib_sps / plain_sps:.2f}")
    torch.manual_seed(0)
    res = train(TinyUNet(), data, schedule, TrainConfig(steps=args.steps, batch_size=args.batch, lr=args.lr,
                                                        ema_decay=args.ema, device="cpu", progress=False,
                                                        log_every=100))
    h = res.history
    first, last = sum(h["loss"][:50]) / 50, sum(h["loss"][-200:]) / 200
    print(f"trained {h['step']} steps in {h['wall_time']:.1f} s ({h['steps_per_second']:.1f} steps/s); "
          f"loss {first:.4f} (first 50) -> {last:.4f} (last 200)")
    x = sample(res.ema_model, schedule, 64, (1, 8, 8), generator=torch.Generator().manual_seed(1))
    out = Path(args.out) / "digits_samples.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    _plot_samples(x.numpy(), out)
    print(f"wrote a grid of 64 samples to {out}")


if __name__ == "__main__":
    main()
