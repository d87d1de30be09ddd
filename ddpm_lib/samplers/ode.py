"""Deterministic samplers of the probability-flow ODE and their time grids.

* :func:`probability_flow_heun` — Heun's method (2nd order) for ``dx/dt = −½x − ½ s(x, t)`` in
  forward OU time, on any time grid; :func:`karras_times` is the grid of Karras et al. (2022),
  ``ρ = 7`` spacing in ``σ(t) = √(e^t − 1)``.
* :func:`ddim` — DDIM (η = 0), the exponential Euler step of the same ODE on a schedule's steps.
* :func:`dpm_solver_2m` — DPM-Solver++(2M) (Lu et al. 2022): the exponential integrator in the
  log-SNR ``λ_i = log(√ᾱ_i / √(1−ᾱ_i))`` with a two-step (multistep) data prediction.

Same signature as every sampler: ``sampler(fn, x, grid, *, generator=None, callback=None, **options)``.
These are deterministic: ``generator`` is accepted (so samplers are interchangeable) and unused.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ..schedules import Schedule
from ..types import Callback, EpsFn, ScoreFn
from ..validation import check_positive_float, check_positive_int
from ._common import Run, check_schedule, check_time_grid, steps_like

__all__ = ["probability_flow_heun", "ddim", "dpm_solver_2m", "karras_times", "schedule_steps", "SPACINGS",
           "dpm_step"]

SPACINGS = ("uniform", "logsnr", "karras")


def karras_times(n: int, t_min: float, t_max: float, rho: float = 7.0) -> torch.Tensor:
    """``n + 1`` increasing OU times with ``σ(t) = √(e^t − 1)`` spaced as ``σ_k^{1/ρ}`` linear (Karras et al. 2022, eq. 5).

    ``σ`` is the noise-to-signal ratio of ``x_t = e^{−t/2}(x_0 + σ(t) z)``; the grid is dense at small ``σ``.
    Returns a float64 tensor ``(n + 1,)`` from ``t_min`` to ``t_max``; ``t_max`` is at most 700 and at most
    ``1400 ρ`` (beyond, ``σ²`` or ``σ^{1/ρ}`` overflows float64).
    """
    n = check_positive_int(n, "n")
    t_min, t_max = check_positive_float(t_min, "t_min"), check_positive_float(t_max, "t_max")
    rho = check_positive_float(rho, "rho")
    if t_min >= t_max:
        raise ValueError(f"t_min must be below t_max, got t_min = {t_min}, t_max = {t_max}")
    if t_max > min(700.0, 1400.0 * rho):  # σ(t_max)² and σ(t_max)^(1/ρ) must stay below float64's ~e^709
        raise ValueError(f"t_max must be at most 700 and at most 1400·rho (σ(t) = √(e^t − 1) overflows float64 "
                         f"beyond), got t_max = {t_max}, rho = {rho}")
    s_lo, s_hi = math.sqrt(math.expm1(t_min)) ** (1 / rho), math.sqrt(math.expm1(t_max)) ** (1 / rho)
    sig = (s_lo + torch.linspace(0, 1, n + 1, dtype=torch.float64) * (s_hi - s_lo)) ** rho
    times = torch.log1p(sig * sig)
    times[0], times[-1] = t_min, t_max  # exact endpoints
    return times


def schedule_steps(schedule: Schedule, k: int, spacing: str = "uniform") -> list[int]:
    """``k`` decreasing steps ``n = i_1 > … > i_k = 1`` of ``schedule`` (fewer if two round to the same step).

    ``"uniform"`` in the step index; ``"logsnr"`` uniform in ``λ_i``; ``"karras"`` ``ρ = 7`` in ``σ_i = e^{−λ_i}``
    (each target mapped to the step of nearest ``λ``). ``k = n`` gives every step, whatever the spacing.
    """
    schedule = check_schedule(schedule)
    n = schedule.n
    k = check_positive_int(k, "steps")
    if k > n:
        raise ValueError(f"steps must be at most the schedule's n = {n}, got {k}")
    if spacing not in SPACINGS:
        raise ValueError(f"spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    if spacing == "uniform" or k == 1 or k == n:  # k = n: the only n distinct steps are all of them
        idx = torch.linspace(n, 1, k, dtype=torch.float64).round().long()
    else:
        ab = schedule.alpha_bars.to(torch.float64)
        lam = 0.5 * (torch.log(ab[1:]) - torch.log1p(-ab[1:]))  # λ_1..λ_n, decreasing in i
        u = torch.linspace(0, 1, k, dtype=torch.float64)
        if spacing == "logsnr":
            target = lam[-1] + u * (lam[0] - lam[-1])
        else:
            s_hi, s_lo = torch.exp(-lam[-1]) ** (1 / 7), torch.exp(-lam[0]) ** (1 / 7)
            target = -7 * torch.log(s_hi + u * (s_lo - s_hi))
        idx = 1 + (target[:, None] - lam[None, :]).abs().argmin(dim=1)
    return idx.unique_consecutive().tolist()


def dpm_step(x: Any, denoised: Any, alpha_s: Any, sigma_s: Any, alpha_t: Any, sigma_t: Any) -> Any:
    """One exponential-integrator step from noise level ``s`` to ``t`` with the data prediction held fixed:
    ``x_t = (σ_t/σ_s) x_s − α_t (e^{−h} − 1) D`` with ``h = λ_t − λ_s``, ``e^{−h} = σ_t α_s / (α_t σ_s)``.

    Exact for the probability-flow ODE ``d(x/σ)/dλ = e^λ D`` when ``D`` is constant (SymPy or tensor input).
    """
    return (sigma_t / sigma_s) * x + (alpha_t - sigma_t * alpha_s / sigma_s) * denoised


def probability_flow_heun(score: ScoreFn, x: torch.Tensor, grid: Any, *, generator: torch.Generator | None = None,
                          callback: Callback | None = None, direction: str = "backward") -> torch.Tensor:
    """Heun's method for the probability-flow ODE ``dx/dt = −½x − ½ s(x, t)`` (forward time); deterministic.

    ``direction="backward"`` decodes noise -> data (from ``grid[-1]`` down to ``grid[0]``),
    ``"forward"`` encodes data -> noise (``grid[0]`` up to ``grid[-1]``); two score
    evaluations per step. ``x (batch, ...)`` -> ``x``'s shape.
    """
    if direction not in ("backward", "forward"):
        raise ValueError(f"direction must be 'backward' or 'forward', got {direction!r}")
    times = check_time_grid(grid)
    if direction == "backward":
        times = times[::-1]
    run = Run(score, "score", x, generator, callback, "t")
    m = len(times) - 1
    x = run.start(m, times[0])
    for k in range(1, m + 1):
        t0, t1 = times[k - 1], times[k]
        h = t1 - t0
        d0 = (x + run.call(x, t0, k, t0)).mul_(-0.5)  # dx/dt at (x, t0)
        x_euler = x + h * d0
        d1 = (x_euler + run.call(x_euler, t1, k, t1)).mul_(-0.5)
        x = (x + (0.5 * h) * d0).add_(d1, alpha=0.5 * h)
        run.report(k, x, t1)
    return x


def _coefficients(schedule: Schedule, steps: list[int]) -> tuple[list[float], list[float]]:
    ab = schedule.alpha_bars.tolist()
    nodes = steps + [0]
    return [math.sqrt(ab[i]) for i in nodes], [math.sqrt(1 - ab[i]) for i in nodes]


def ddim(eps: EpsFn, x: torch.Tensor, schedule: Schedule, *, generator: torch.Generator | None = None,
         callback: Callback | None = None, steps: int | None = None, spacing: str = "uniform") -> torch.Tensor:
    """Deterministic DDIM (η = 0): ``x_j = √ᾱ_j x̂_0 + √(1−ᾱ_j) ε(x_i, i)`` with ``x̂_0 = (x_i − √(1−ᾱ_i) ε)/√ᾱ_i``.

    Runs over ``steps`` steps ``n = i_1 > … > i_k = 1`` of the schedule (:func:`schedule_steps`; default:
    all ``n``), ending at ``j = 0``: :func:`dpm_step` with ``D = x̂_0``, the first-order exponential
    integrator of the probability-flow ODE. ``x = x_n (batch, ...)`` -> ``x_0``.
    """
    schedule = check_schedule(schedule)
    run = Run(eps, "eps", x, generator, callback, "i", batched=True)
    grid = schedule_steps(schedule, schedule.n if steps is None else steps, spacing)
    alphas, sigmas = _coefficients(schedule, grid)
    x = run.start(len(grid), grid[0])
    for m, i in enumerate(grid):
        e = run.call(x, steps_like(x, i), m + 1, i)
        x0_hat = (x - sigmas[m] * e) / alphas[m]
        x = alphas[m + 1] * x0_hat + sigmas[m + 1] * e
        run.report(m + 1, x, grid[m + 1] if m + 1 < len(grid) else 0)
    return x


def dpm_solver_2m(eps: EpsFn, x: torch.Tensor, schedule: Schedule, *, generator: torch.Generator | None = None,
                  callback: Callback | None = None, steps: int | None = 20, spacing: str = "logsnr",
                  eta: float = 0.0) -> torch.Tensor:
    """DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2) over ``steps`` steps of the schedule (:func:`schedule_steps`).

    With ``D_m = x̂_0(x_m, i_m)``, ``h_m = λ_{m+1} − λ_m`` and ``r = h_{m−1}/h_m``, each step is :func:`dpm_step`
    with ``D = (1 + 1/(2r)) D_m − 1/(2r) D_{m−1}`` (``D_0`` alone at the first step); the last step, to
    ``√(1−ᾱ) = 0`` (``h = ∞``), returns ``D`` of the last step (first order there). One ``eps`` call per step.
    ``eta > 0`` gives the stochastic variant (DPM-Solver++(2M) SDE, as in k-diffusion, midpoint form):
    ``x ← (b'/b) e^{−ηh} x + a'(1 − e^{−(1+η)h}) D + b' √(1 − e^{−2ηh}) z`` with ``a = √ᾱ``, ``b = √(1−ᾱ)``
    (primes: the next step), which is the probability flow for ``η = 0`` and the reverse SDE for ``η = 1``.
    ``x = x_n (batch, ...)`` -> ``x_0``; ``steps=None`` uses all ``n`` steps.
    """
    eta = check_positive_float(eta, "eta", allow_zero=True)
    schedule = check_schedule(schedule)
    run = Run(eps, "eps", x, generator, callback, "i", batched=True)
    grid = schedule_steps(schedule, schedule.n if steps is None else steps, spacing)
    alphas, sigmas = _coefficients(schedule, grid)
    lams = [math.log(a / s) for a, s in zip(alphas[:-1], sigmas[:-1])]
    x = run.start(len(grid), grid[0])
    d_prev, h_prev = None, 0.0
    for m, i in enumerate(grid):
        e = run.call(x, steps_like(x, i), m + 1, i)
        d = (x - sigmas[m] * e) / alphas[m]
        if m + 1 == len(grid):  # to σ = 0: x_0 = α_0 D = D
            x = d
        else:
            h = lams[m + 1] - lams[m]
            dd = d if d_prev is None else d + (h / (2 * h_prev)) * (d - d_prev)  # (1 + 1/2r) D_m − (1/2r) D_{m−1}
            if eta == 0:
                x = dpm_step(x, dd, alphas[m], sigmas[m], alphas[m + 1], sigmas[m + 1])
            else:
                x = (x * (sigmas[m + 1] / sigmas[m] * math.exp(-eta * h))).add_(
                    dd, alpha=-alphas[m + 1] * math.expm1(-(1 + eta) * h)).add_(
                    run.noise(x), alpha=sigmas[m + 1] * math.sqrt(-math.expm1(-2 * eta * h)))
            d_prev, h_prev = d, h
        run.report(m + 1, x, grid[m + 1] if m + 1 < len(grid) else 0)
    return x
