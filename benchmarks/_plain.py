"""The hand-written baselines the benchmarks compare the library with: what one writes in a
tutorial — default AdamW, no clipping, no EMA — for any data shape ``(batch, ...)``, and the
side-by-side throughput comparison of that loop with :func:`ddpm_lib.training.train`.

Run as a script it prints that comparison for the 2-D ``EpsMLP`` on one CPU thread (the first
part of ``benchmarks/train_2d.py``):

    python benchmarks/_plain.py [--rounds 5] [--steps 600] [--batch 256]
"""
from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F


def plain_train_loop(model, data, schedule, steps, batch, lr, seed=0, callback=None, callback_every=25) -> float:
    """Train ``model`` for ``steps`` plain DSM steps on ``data (N, ...)``; returns steps/s.

    ``callback(step, model)`` runs every ``callback_every`` steps; returning ``True`` stops the loop."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    ab = schedule.alpha_bars.float()
    coef_shape = (batch,) + (1,) * (data.dim() - 1)
    t0 = time.perf_counter()
    for k in range(steps):
        idx = torch.randint(0, data.shape[0], (batch,), generator=g)
        i = torch.randint(1, schedule.n + 1, (batch,), generator=g)
        x0 = data[idx]
        e = torch.randn(x0.shape, generator=g)
        a = ab[i].reshape(coef_shape)
        loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * e, i), e)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if callback is not None and (k + 1) % callback_every == 0 and callback(k + 1, model):
            return (k + 1) / (time.perf_counter() - t0)
    return steps / (time.perf_counter() - t0)


@torch.no_grad()
def plain_sample_loop(model, schedule, n, shape, seed=0) -> tuple[torch.Tensor, float]:
    """Hand-written DDPM ancestral sampling (σ² = β) of ``n`` points of ``shape``: (samples, samples/s)."""
    g = torch.Generator().manual_seed(seed)
    betas, ab = schedule.betas.tolist(), schedule.alpha_bars.tolist()
    t0 = time.perf_counter()
    x = torch.randn((n,) + tuple(shape), generator=g)
    for i in range(schedule.n, 0, -1):
        e = model(x, torch.full((n,), i, dtype=torch.long))
        x = (x - betas[i] / math.sqrt(1 - ab[i]) * e) / math.sqrt(1 - betas[i])
        if i > 1:
            x = x + math.sqrt(betas[i]) * torch.randn(x.shape, generator=g)
    return x, n / (time.perf_counter() - t0)


def compare_training_throughput(make_model, data, schedule, steps, batch, lr, rounds, warmup_steps,
                                log_every) -> tuple[list[float], list[float]]:
    """Alternate rounds of ``steps`` steps of the plain loop and of the library loop on fresh models.

    ``schedule`` is the float64 schedule the library trains with (the plain loop uses its float32
    copy). Returns the steps/s of every round, ``(plain, library)``; compare their maxima.
    """
    from ddpm_lib.training import TrainConfig, train

    sched32 = schedule.to(dtype=torch.float32)
    plain_train_loop(make_model(), data, sched32, warmup_steps, batch, lr)  # first-call costs
    plain, lib = [], []
    for r in range(rounds):
        torch.manual_seed(r)
        plain.append(plain_train_loop(make_model(), data, sched32, steps, batch, lr))
        torch.manual_seed(r)
        res = train(make_model(), data, schedule, TrainConfig(steps=steps, batch_size=batch, lr=lr, device="cpu",
                                                              progress=False, log_every=log_every))
        lib.append(res.history["steps_per_second"])
    return plain, lib


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5, help="alternating rounds (best of each loop is reported)")
    p.add_argument("--steps", type=int, default=600, help="training steps per round")
    p.add_argument("--batch", type=int, default=256, help="minibatch size")
    p.add_argument("--lr", type=float, default=2e-3, help="AdamW learning rate")
    args = p.parse_args(argv)
    if min(args.rounds, args.steps, args.batch) < 1 or not args.lr > 0:
        p.error("--rounds, --steps and --batch must be >= 1 and --lr > 0")
    from ddpm_lib.data import make_dataset
    from ddpm_lib.models import EpsMLP
    from ddpm_lib.schedules import linear_schedule

    torch.set_num_threads(1)
    data = make_dataset("mixture", 50_000, generator=torch.Generator().manual_seed(1))
    plain, lib = compare_training_throughput(EpsMLP, data, linear_schedule(1000), args.steps, args.batch, args.lr,
                                             args.rounds, warmup_steps=50, log_every=100)
    print(f"torch {torch.__version__}, 1 CPU thread, EpsMLP, batch {args.batch}, {args.steps} steps per round")
    print(f"  plain loop   {max(plain):7.0f} steps/s   (rounds: {', '.join(f'{v:.0f}' for v in plain)})")
    print(f"  library loop {max(lib):7.0f} steps/s   (rounds: {', '.join(f'{v:.0f}' for v in lib)})")
    print(f"  ratio library/plain = {max(lib) / max(plain):.2f}")


if __name__ == "__main__":
    main()
