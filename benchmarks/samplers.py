"""Speed and accuracy of the samplers on the 2-D ring (one CPU thread); prints figures, not a test.

Run: ``python benchmarks/samplers.py [--repeats 5] [--train-steps 4000] [--all] [--quick]``.

1. **Few-step sampling vs the 1000-step ancestral sampler**, side by side in one run, for 5,000
   points: ``ddpm_lib.sampling.sample`` with each sampler (DPM-Solver++(2M), DDIM, ancestral) and
   the plain hand-written 1000-step ancestral loop of ``benchmarks/_plain.py``; for each, network
   calls, CPU seconds (``time.process_time``, one thread) and the sliced Wasserstein distance
   (SWD, 256 projections) to 5,000 fresh data points, mean ± sd over ``--repeats`` paired repeats
   (same data and projections for every sampler in a repeat), and its ratio to the ancestral
   sampler's. Once with the exact ε* of the ring mixture (``GaussianMixture.eps_fn``), once with
   an ``EpsMLP`` trained here for ``--train-steps`` steps (0 skips it; the default is about a minute of CPU)
   with ``--train-config``: ``final`` (batch 1024, cosine lr decay; the default) or ``defaults`` (constant lr).
   One network and a few repeats scatter by ±10 %: ``benchmarks/sampler_eta.py`` compares the default's
   noise level η over eight trained networks.
2. With ``--all``, the older study with the exact score: each sampler at 1,000 steps on 10,000
   particles, the per-step overhead against one score evaluation, and the empirical order of the
   error against the step count (log-log slope over 25..400 steps).
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _plain import plain_sample_loop  # noqa: E402

from ddpm_lib import EpsMLP, linear_schedule, scaled_linear_schedule  # noqa: E402
from ddpm_lib.data import make_dataset  # noqa: E402
from ddpm_lib.metrics import noise_floor, sliced_wasserstein  # noqa: E402
from ddpm_lib.mixtures import ring_mixture  # noqa: E402
from ddpm_lib.samplers import (ddpm_ancestral, discrete_backward, langevin, probability_flow_heun,  # noqa: E402
                               reverse_sde_euler)
from ddpm_lib.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, sample  # noqa: E402

N_SAMPLES = 5_000


def timed(fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, float]:
    """Run ``fn`` once and return its result and wall time in seconds."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0



class ExactEps(torch.nn.Module):
    """The exact ε* of a mixture as a float64 module (so that :func:`sample` runs it like a network)."""

    def __init__(self, gm, schedule) -> None:
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        self.n_steps = schedule.n
        self.eps = gm.eps_fn(schedule)
        self.calls = 0

    def forward(self, x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.eps(x, i)


class Counter(torch.nn.Module):
    """Wraps a model and counts its calls."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model, self.n_steps, self.dim, self.calls = model, model.n_steps, model.dim, 0

    def forward(self, x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.model(x, i)


def few_step_table(title: str, model: torch.nn.Module, schedule, fresh: Callable[[int], torch.Tensor],
                   repeats: int) -> None:
    """Each sampler of ``sample`` and the plain loop: calls, CPU-s for 5,000 points, SWD (mean ± sd), ratio."""
    runs: dict[str, Callable[[int], torch.Tensor]] = {
        "plain loop, ancestral 1000": lambda seed: plain_sample_loop(model, schedule, N_SAMPLES, (2,), seed=seed)[0],
        "sample(), ancestral 1000": lambda seed: sample(model, schedule, N_SAMPLES, (2,), sampler="ancestral",
                                                        generator=torch.Generator().manual_seed(seed)),
    }
    for name, k in (("dpm++2m", 10), ("dpm++2m", 15), ("dpm++2m", 20), ("dpm++2m", 25), ("dpm++2m-sde", 15),
                    ("dpm++2m-sde", 20), ("dpm++2m-sde", 25)):
        default = name == DEFAULT_SAMPLER and k == DEFAULT_STEPS
        runs[f"sample(), {name} {k}" + (" (default)" if default else "")] = (
            lambda seed, k=k, name=name: sample(model, schedule, N_SAMPLES, (2,), sampler=name, steps=k,
                                                generator=torch.Generator().manual_seed(seed)))
    for k in (25, 100):
        runs[f"sample(), ddim {k}"] = (lambda seed, k=k: sample(model, schedule, N_SAMPLES, (2,), sampler="ddim",
                                                                steps=k, generator=torch.Generator().manual_seed(seed)))
    refs = [fresh(1000 + r) for r in range(repeats)]
    floor = [sliced_wasserstein(fresh(3000 + r), refs[r], generator=torch.Generator().manual_seed(2000 + r))
             for r in range(repeats)]
    print(f"\n{title}: {N_SAMPLES} samples vs {N_SAMPLES} fresh data points, SWD with 256 projections, "
          f"{repeats} paired repeats")
    print(f"{'sampler':36s} {'calls':>6s} {'CPU s':>7s} {'SWD mean ± sd':>17s} {'/ancestral':>10s}")
    anc = None
    for name, run in runs.items():
        swds, cpus = [], []
        for r in range(2 if name.startswith("plain") else repeats):  # the plain loop: a timing baseline
            model.calls = 0
            c0 = time.process_time()
            x = run(r)
            cpus.append(time.process_time() - c0)
            calls = 1000 if name.startswith("plain") else model.calls
            swds.append(sliced_wasserstein(x.to(refs[r].dtype), refs[r], generator=torch.Generator().manual_seed(2000 + r)))
        mean, sd = statistics.fmean(swds), statistics.stdev(swds)
        if name.startswith("sample(), ancestral"):
            anc = swds
        ratio = f"{mean / statistics.fmean(anc[:len(swds)]):10.3f}" if anc else f"{'':>10s}"
        print(f"{name:36s} {calls:6d} {min(cpus):7.3f} {mean:8.4f} ± {sd:6.4f} {ratio}")
    fm, fsd = statistics.fmean(floor), statistics.stdev(floor) if repeats > 1 else 0.0
    print(f"{'two-sample noise floor':36s} {'':6s} {'':7s} {fm:8.4f} ± {fsd:6.4f} {fm / statistics.fmean(anc):10.3f}")
    print("(CPU s: the fastest repeat; /ancestral: mean SWD over the 1000-step ancestral sampler's, same repeats;"
          " the plain loop runs 2 repeats, with its own noise)")


#: training settings of the EpsMLP: "final" = the configuration kept by benchmarks/train_2d.py (batch 1024,
#: cosine decay of the lr to 0 at the last step), "defaults" = TrainConfig()'s (batch 256, constant lr)
TRAIN_CONFIGS = {"final": {"batch_size": 1024, "lr_schedule": "cosine", "lr_min_ratio": 0.0}, "defaults": {}}


def train_epsmlp(steps: int, schedule, config: str = "final") -> torch.nn.Module:
    """An EpsMLP (the book's 2-D model) trained on 20,000 ring points with :data:`TRAIN_CONFIGS` ``[config]``."""
    from ddpm_lib.training import TrainConfig, train

    data = make_dataset("ring", 20_000, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = EpsMLP(dim=2, n_steps=schedule.n)
    c0 = time.process_time()
    result = train(model, data, schedule, TrainConfig(steps=steps, seed=0, device="cpu", progress=False,
                                                      **TRAIN_CONFIGS[config]))
    print(f"trained EpsMLP ({config} settings) for {steps} steps in {time.process_time() - c0:.1f} CPU-s")
    return result.ema_model.to("cpu").eval()


def study_exact_score(args: argparse.Namespace) -> None:
    """The per-sampler table at 1,000 steps, the per-step overhead and the order study (exact score)."""
    gm = ring_mixture()
    score = gm.score_fn()
    n_particles, n_steps = 10_000, 1_000
    sch = scaled_linear_schedule(n_steps)
    grid = sch.times[1:]
    t0 = float(grid[0])
    target0 = gm.sample(n_particles, torch.Generator().manual_seed(123))
    target_t0 = gm.diffuse(t0).sample(n_particles, torch.Generator().manual_seed(123))
    floor, floor_sd = noise_floor(gm.sample, n_particles)
    print(f"ring mixture (K=8, radius 3, std 0.3), {n_particles} particles, {n_steps} steps, "
          f"T = {float(sch.times[-1]):.3f}, torch threads = {torch.get_num_threads()}")
    print(f"SWD noise floor (two exact samples of {n_particles}): {floor:.4f} ± {floor_sd:.4f}")

    def start(seed: int) -> torch.Tensor:
        return torch.randn(n_particles, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))

    eps = gm.eps_fn(sch)
    runs = {
        "langevin (h=0.01, from 3·N(0,I))": (lambda g: langevin(score, 3 * start(1), 0.01, n_steps, generator=g), target0),
        "reverse_sde_euler": (lambda g: reverse_sde_euler(score, start(1), grid, generator=g), target_t0),
        "discrete_backward": (lambda g: discrete_backward(score, start(1), sch, generator=g), target0),
        "ddpm_ancestral (beta)": (lambda g: ddpm_ancestral(eps, start(1), sch, generator=g), target0),
        "ddpm_ancestral (beta_tilde)": (lambda g: ddpm_ancestral(eps, start(1), sch, generator=g, variance="beta_tilde"),
                                        target0),
        "probability_flow_heun": (lambda g: probability_flow_heun(score, start(1), grid), target_t0),
    }
    print(f"\n{'sampler':36s} {'wall s':>7s} {'score evals':>11s} {'SWD':>8s} {'SWD/floor':>9s}")
    for name, (run, target) in runs.items():
        out, wall = timed(lambda: run(torch.Generator().manual_seed(7)))
        evals = 2 * n_steps if "flow" in name else n_steps
        swd = sliced_wasserstein(out, target)
        print(f"{name:36s} {wall:7.3f} {evals:11d} {swd:8.4f} {swd / floor:9.2f}")

    # per-step overhead: the sampler with a score that does (almost) nothing vs one real score evaluation
    x = start(2)
    zero = torch.zeros_like(x)
    reps = 200
    _, t_eval = timed(lambda: [score(x, 0.5) for _ in range(reps)])
    t_eval /= reps
    print(f"\none exact score evaluation (10,000 × 2): {1e6 * t_eval:.0f} µs")
    for name, run in {
        "reverse_sde_euler": lambda: reverse_sde_euler(lambda y, t: zero, x, grid, generator=torch.Generator().manual_seed(0)),
        "discrete_backward": lambda: discrete_backward(lambda y, t: zero, x, sch, generator=torch.Generator().manual_seed(0)),
        "ddpm_ancestral": lambda: ddpm_ancestral(lambda y, i: zero, x, sch, generator=torch.Generator().manual_seed(0)),
        "probability_flow_heun": lambda: probability_flow_heun(lambda y, t: zero, x, grid),
        "langevin": lambda: langevin(lambda y, t: zero, x, 0.01, n_steps, generator=torch.Generator().manual_seed(0)),
    }.items():
        _, wall = timed(run)
        per_step = wall / n_steps
        print(f"  {name:24s} per-step cost without the score: {1e6 * per_step:6.0f} µs "
              f"(= {per_step / t_eval:.2f} score evaluations)")
    _, t_noise = timed(lambda: [torch.randn(x.shape, dtype=x.dtype) for _ in range(reps)])
    print(f"  of which one float64 Gaussian draw (10,000 × 2), in the stochastic samplers: {1e6 * t_noise / reps:.0f} µs; "
          f"the rest is the Python loop and the update arithmetic")

    # empirical order of the error vs the step count. On this target the SWD reaches its noise floor
    # within ~50 steps, so the order is read off a smoother, less noisy error: the error of the second
    # moment E|x|² (exact value from the diffused mixture), with many particles.
    big = 40_000 if args.quick else 100_000
    counts = [25, 50, 100, 200, 400]
    xs = torch.randn(big, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    se = None
    print(f"\nerror vs step count n (scaled linear schedule, T ≈ 10; {big} particles)")

    def second_moment_error(out: torch.Tensor, t: float) -> float:
        nonlocal se
        exact = float(torch.trace(gm.diffuse(t).covariance() if t > 0 else gm.covariance()))
        sq = (out * out).sum(1)
        se = float(sq.std()) / math.sqrt(out.shape[0])
        return abs(float(sq.mean()) - exact)

    samplers = {
        "reverse_sde_euler": lambda s, g: (reverse_sde_euler(score, xs, s.times[1:], generator=g), float(s.times[1])),
        "discrete_backward": lambda s, g: (discrete_backward(score, xs, s, generator=g), 0.0),
        "ddpm_ancestral": lambda s, g: (ddpm_ancestral(gm.eps_fn(s), xs, s, generator=g), 0.0),
        "probability_flow_heun": lambda s, g: (probability_flow_heun(score, xs, s.times[1:]), float(s.times[1])),
    }
    for name, run in samplers.items():
        errs = []
        for n in counts:
            out, t = run(scaled_linear_schedule(n), torch.Generator().manual_seed(11))
            errs.append(second_moment_error(out, t))
        # fit only the errors clearly above the Monte Carlo noise (> 3 s.e.)
        keep = [k for k, e in enumerate(errs) if e > 3 * se]
        slope = (f"{np.polyfit(np.log([counts[k] for k in keep]), np.log([errs[k] for k in keep]), 1)[0]:+.2f} "
                 f"over n = {counts[keep[0]]}..{counts[keep[-1]]}") if len(keep) >= 2 else "n/a (at the noise)"
        print(f"  {name:22s} |E|x|² − exact|: " + ", ".join(f"{n}:{e:.2e}" for n, e in zip(counts, errs))
              + f"   slope {slope}   (Monte Carlo s.e. {se:.1e})")
    # the deterministic ODE has no Monte Carlo noise: pathwise error against a 3,200-step solution from the
    # same start, on uniform grids with the same endpoints (Heun: second order)
    t_a, t_b = 0.05, 10.0
    xp = xs[:20_000]
    ref = probability_flow_heun(score, xp, torch.linspace(t_a, t_b, 3201, dtype=torch.float64))
    errs = []
    for n in counts:
        out = probability_flow_heun(score, xp, torch.linspace(t_a, t_b, n + 1, dtype=torch.float64))
        errs.append(float((out - ref).norm(dim=1).mean()))
    slope = np.polyfit(np.log(counts), np.log(errs), 1)[0]
    print(f"  {'probability_flow_heun':22s} pathwise mean |x_n − x_ref| (20,000 paths, uniform grid on [{t_a}, {t_b}]): "
          + ", ".join(f"{n}:{e:.2e}" for n, e in zip(counts, errs)) + f"   slope {slope:+.2f}")
    print("(a slope of −1 is first order, −2 second order)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=6, help="paired repeats per sampler (default 6)")
    parser.add_argument("--train-steps", type=int, default=None,
                        help="training steps of the EpsMLP (0: skip the trained model; default about 60 CPU-s: "
                             "7500 with --train-config final, 15000 with defaults)")
    parser.add_argument("--train-config", choices=sorted(TRAIN_CONFIGS), default="final",
                        help="final (default): batch 1024, cosine lr decay, as kept by train_2d.py; "
                             "defaults: TrainConfig()'s constant lr at batch 256")
    parser.add_argument("--all", action="store_true", help="also the exact-score study of every sampler")
    parser.add_argument("--quick", action="store_true", help="fewer particles in the order study (with --all)")
    args = parser.parse_args()
    if args.train_steps is None:
        args.train_steps = 7500 if args.train_config == "final" else 15000
    if args.repeats < 2 or args.train_steps < 0:
        parser.error("--repeats must be >= 2 and --train-steps >= 0")
    torch.set_num_threads(1)
    schedule = linear_schedule(1000)
    gm = ring_mixture()
    print(f"torch threads = {torch.get_num_threads()}, linear schedule n = 1000")
    few_step_table("exact ε* of the ring mixture (8 modes, radius 3, std 0.3)", ExactEps(gm, schedule), schedule,
                   lambda seed: gm.sample(N_SAMPLES, torch.Generator().manual_seed(seed)), args.repeats)
    if args.train_steps:
        model = Counter(train_epsmlp(args.train_steps, schedule, args.train_config))
        few_step_table("trained EpsMLP (ring data set)", model, schedule,
                       lambda seed: make_dataset("ring", N_SAMPLES, generator=torch.Generator().manual_seed(seed)),
                       args.repeats)
    if args.all:
        study_exact_score(args)


if __name__ == "__main__":
    main()
