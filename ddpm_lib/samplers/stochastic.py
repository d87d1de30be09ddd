"""The stochastic samplers: Langevin dynamics, Euler–Maruyama for the reverse SDE, the discrete
backward chain and DDPM's ancestral sampler.

Signature of each: ``sampler(fn, x, grid, *, generator=None, callback=None, **options)``;
``fn`` a :data:`~ddpm_lib.types.ScoreFn` or :data:`~ddpm_lib.types.EpsFn`, ``grid`` a time grid
(increasing forward times, run from the last entry down to the first) or a
:class:`~ddpm_lib.schedules.Schedule` (run from step ``n`` down to 0). Per step: one ``fn`` call
and a few fused tensor ops with coefficients precomputed as Python floats.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ..schedules import Schedule
from ..types import Callback, EpsFn, ScoreFn
from ..validation import check_positive_float, check_positive_int, check_time
from ._common import Run, check_schedule, check_time_grid, steps_like

__all__ = ["langevin", "reverse_sde_euler", "discrete_backward", "ddpm_ancestral"]


def langevin(score: ScoreFn, x: torch.Tensor, step_size: float, n_steps: int, *, t: float = 0.0,
             generator: torch.Generator | None = None, callback: Callback | None = None) -> torch.Tensor:
    """Unadjusted Langevin ``x ← x + h s(x, t) + √(2h) z`` at the fixed time ``t`` (default 0: the data's score).

    Its "grid" is ``n_steps`` steps of size ``h = step_size`` at one time ``t``; ``x (..., d)`` -> ``x``'s shape.
    A time-free score ``f(x)`` enters as ``lambda x, t: f(x)``.
    """
    h = check_positive_float(step_size, "step_size")
    n_steps = check_positive_int(n_steps, "n_steps")
    t = float(check_time(t, "t"))
    run = Run(score, "score", x, generator, callback, "t")
    x = run.start(n_steps, t)
    noise_scale = math.sqrt(2 * h)
    for k in range(1, n_steps + 1):
        s = run.call(x, t, k, t)
        x = (x + h * s).add_(run.noise(x), alpha=noise_scale)
        run.report(k, x, t)
    return x


def reverse_sde_euler(score: ScoreFn, x: torch.Tensor, grid: Any, *, generator: torch.Generator | None = None,
                      callback: Callback | None = None) -> torch.Tensor:
    """Euler–Maruyama for the reverse SDE ``dx = (½x + s(x, T − t')) dt' + dW`` over ``grid``, last entry to first.

    Each step from ``t_j`` to ``t_{j−1}`` (``h = t_j − t_{j−1}``) is
    ``x ← x + h (½ x + s(x, t_j)) + √h z``, with noise at every step (plain Euler–Maruyama,
    so the result approximates ``p_{t_0}``). ``x (batch, ...)`` -> ``x``'s shape.
    """
    times = check_time_grid(grid)
    run = Run(score, "score", x, generator, callback, "t")
    m = len(times) - 1
    x = run.start(m, times[-1])
    for k in range(1, m + 1):
        j = m - k + 1
        t, h = times[j], times[j] - times[j - 1]
        s = run.call(x, t, k, t)
        x = (x * (1 + 0.5 * h)).add_(s, alpha=h).add_(run.noise(x), alpha=math.sqrt(h))
        run.report(k, x, times[j - 1])
    return x


def discrete_backward(score: ScoreFn, x: torch.Tensor, schedule: Schedule, *,
                      generator: torch.Generator | None = None, callback: Callback | None = None) -> torch.Tensor:
    """The backward VP chain ``x_{i−1} = (x_i + β_i s(x_i, t_i)) / √(1−β_i) + √β_i z`` for ``i = n..1``, no noise at ``i = 1``.

    The score is evaluated at ``x_i`` with ``t_i = schedule.times[i]`` and ``β_i = schedule.betas[i]``.
    ``x = x_n (batch, ...)`` -> ``x_0`` (``x``'s shape).
    """
    schedule = check_schedule(schedule)
    run = Run(score, "score", x, generator, callback, "i")
    betas, times, n = schedule.betas.tolist(), schedule.times.tolist(), schedule.n
    x = run.start(n, n)
    for i in range(n, 0, -1):
        beta = betas[i]
        s = run.call(x, times[i], n - i + 1, i)
        x = (x + beta * s).mul_(1 / math.sqrt(1 - beta))
        if i > 1:
            x = x.add_(run.noise(x), alpha=math.sqrt(beta))
        run.report(n - i + 1, x, i - 1)
    return x


def ddpm_ancestral(eps: EpsFn, x: torch.Tensor, schedule: Schedule, *, generator: torch.Generator | None = None,
                   callback: Callback | None = None, variance: str = "beta") -> torch.Tensor:
    """DDPM's sampler ``x_{i−1} = (x_i − β_i/√(1−ᾱ_i) ε(x_i, i)) / √α_i + σ_i z``, ``σ_i² = β_i`` or ``β̃_i``, no noise at ``i = 1``.

    ``eps`` is called with ``x_i`` and a ``(batch,)`` long tensor filled with ``i``.
    ``x = x_n (batch, ...)`` -> ``x_0`` (``x``'s shape).
    """
    schedule = check_schedule(schedule)
    if variance not in ("beta", "beta_tilde"):
        raise ValueError(f"variance must be 'beta' or 'beta_tilde', got {variance!r}")
    run = Run(eps, "eps", x, generator, callback, "i", batched=True)
    n = schedule.n
    betas, alpha_bars = schedule.betas.tolist(), schedule.alpha_bars.tolist()
    sig2 = betas if variance == "beta" else schedule.posterior_variances.tolist()
    x = run.start(n, n)
    for i in range(n, 0, -1):
        beta = betas[i]
        e = run.call(x, steps_like(x, i), n - i + 1, i)
        x = (x - (beta / math.sqrt(1 - alpha_bars[i])) * e).mul_(1 / math.sqrt(1 - beta))
        if i > 1:
            x = x.add_(run.noise(x), alpha=math.sqrt(sig2[i]))
        run.report(n - i + 1, x, i - 1)
    return x
