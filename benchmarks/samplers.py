"""Speed and accuracy of the samplers with the exact score of the 2-D ring mixture (one CPU thread).

Run: ``python benchmarks/samplers.py [--quick]``. Prints, for 10,000 particles and 1,000 steps,
each sampler's wall time, the sliced Wasserstein distance (SWD) it reaches and the SWD noise
floor; the per-step Python overhead against one score evaluation; and the empirical order of
the error against the step count (log-log slope over 25..400 steps).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from ddpm_lib import scaled_linear_schedule
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import ring_mixture
from ddpm_lib.samplers import (ddpm_ancestral, discrete_backward, langevin, probability_flow_heun,
                               reverse_sde_euler)


def timed(fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, float]:
    """Run ``fn`` once and return its result and wall time in seconds."""
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer particles in the order study")
    args = parser.parse_args()
    torch.set_num_threads(1)
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
        "langevin (h=0.01, from 3·N(0,I))": (lambda g: langevin(gm.score, 3 * start(1), 0.01, n_steps, g), target0),
        "reverse_sde_euler": (lambda g: reverse_sde_euler(score, start(1), grid, g), target_t0),
        "discrete_backward": (lambda g: discrete_backward(score, sch, start(1), g), target0),
        "ddpm_ancestral (beta)": (lambda g: ddpm_ancestral(eps, sch, start(1), g), target0),
        "ddpm_ancestral (beta_tilde)": (lambda g: ddpm_ancestral(eps, sch, start(1), g, variance="beta_tilde"),
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
        "reverse_sde_euler": lambda: reverse_sde_euler(lambda y, t: zero, x, grid, torch.Generator().manual_seed(0)),
        "discrete_backward": lambda: discrete_backward(lambda y, t: zero, sch, x, torch.Generator().manual_seed(0)),
        "ddpm_ancestral": lambda: ddpm_ancestral(lambda y, i: zero, sch, x, torch.Generator().manual_seed(0)),
        "probability_flow_heun": lambda: probability_flow_heun(lambda y, t: zero, x, grid),
        "langevin": lambda: langevin(lambda y: zero, x, 0.01, n_steps, torch.Generator().manual_seed(0)),
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
        "reverse_sde_euler": lambda s, g: (reverse_sde_euler(score, xs, s.times[1:], g), float(s.times[1])),
        "discrete_backward": lambda s, g: (discrete_backward(score, s, xs, g), 0.0),
        "ddpm_ancestral": lambda s, g: (ddpm_ancestral(gm.eps_fn(s), s, xs, g), 0.0),
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


if __name__ == "__main__":
    main()
