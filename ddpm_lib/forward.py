"""The forward (noising) processes: the continuous OU process and its discrete VP chain.

Continuous: ``dx = −½ x dt + dW`` with exact transition
``x_t | x_0 ~ N(e^{−t/2} x_0, (1 − e^{−t}) I)``.
Discrete: ``x_i = √(1−β_i) x_{i−1} + √β_i ε`` and its closed form
``x_i = √ᾱ_i x_0 + √(1−ᾱ_i) ε``.

The scalar formulas (``ou_drift``, ``ou_mean_scale``, ``ou_variance``, ``vp_step``,
``vp_marginal``) accept SymPy expressions as well as tensors, so the notebooks check the
very functions that the samplers run.
"""
from __future__ import annotations

from typing import Any

import torch

from . import _backend as B
from .schedules import Schedule
from .validation import as_tensor, check_finite, check_same_shape, check_time, check_unit_interval

__all__ = [
    "ou_drift", "ou_diffusion", "ou_mean_scale", "ou_variance", "ou_sample", "ou_euler_maruyama",
    "vp_step", "vp_marginal", "q_sample", "markov_chain",
]


# -- continuous OU process ----------------------------------------------------------
def ou_drift(x: Any) -> Any:
    """Drift ``f(x) = −x/2`` of the forward OU SDE (SymPy or tensor)."""
    return -x / 2


def ou_diffusion() -> int:
    """Diffusion coefficient ``g = 1`` of the forward OU SDE ``dx = f dt + g dW``."""
    return 1


def ou_mean_scale(t: Any) -> Any:
    """``e^{−t/2}``: the factor multiplying ``x_0`` in the mean of ``x_t | x_0``; ``t >= 0`` (SymPy or tensor)."""
    return B.exp(-check_time(t, "t") / 2)


def ou_variance(t: Any) -> Any:
    """``1 − e^{−t}``: the variance (per coordinate) of ``x_t | x_0``; ``t >= 0`` (SymPy or tensor)."""
    return 1 - B.exp(-check_time(t, "t"))


def _noise_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def ou_sample(x0: torch.Tensor, t: float | torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw ``x_t ~ N(e^{−t/2} x0, (1 − e^{−t}) I)`` exactly. ``x0``: ``(..., d)``; ``t`` a scalar or ``(batch,)``."""
    x0 = check_finite(as_tensor(x0, "x0"), "x0")
    check_time(t, "t")
    tt = torch.as_tensor(t, dtype=x0.dtype, device=x0.device)
    if tt.dim() == 1:
        if x0.dim() < 1 or tt.shape[0] != x0.shape[0]:
            raise ValueError(f"a per-sample t of shape {tuple(tt.shape)} needs x0 with batch size {tt.shape[0]}, "
                             f"got x0 of shape {tuple(x0.shape)}")
        tt = tt.reshape((-1,) + (1,) * (x0.dim() - 1))
    elif tt.dim() > 1:
        raise ValueError(f"t must be a scalar or a 1-D tensor of per-sample times, got shape {tuple(tt.shape)}")
    return ou_mean_scale(tt) * x0 + torch.sqrt(ou_variance(tt)) * _noise_like(x0, generator)


def _check_grid(t_grid: Any, name: str = "t_grid") -> torch.Tensor:
    grid = as_tensor(t_grid, name, dtype=torch.float64)
    if grid.dim() != 1 or grid.numel() < 2:
        raise ValueError(f"{name} must be a 1-D tensor of at least 2 times, got shape {tuple(grid.shape)}")
    check_finite(grid, name)
    if float(grid[0]) < 0:
        raise ValueError(f"{name} must start at a time >= 0, got {float(grid[0])}")
    if not bool((grid[1:] > grid[:-1]).all()):
        raise ValueError(f"{name} must be strictly increasing")
    return grid


def ou_euler_maruyama(x0: torch.Tensor, t_grid: Any, generator: torch.Generator | None = None,
                      return_path: bool = False) -> torch.Tensor:
    """Simulate the OU SDE from ``x0`` over ``t_grid`` with Euler–Maruyama.

    Returns ``x`` at the last time (shape of ``x0``), or the whole path ``(len(t_grid), *x0.shape)``.
    """
    x = check_finite(as_tensor(x0, "x0"), "x0").clone()
    grid = _check_grid(t_grid)
    path = [x.clone()] if return_path else None
    g = ou_diffusion()
    for h in (grid[1:] - grid[:-1]).tolist():
        x = x + ou_drift(x) * h + g * (h ** 0.5) * _noise_like(x, generator)
        if path is not None:
            path.append(x.clone())
    return torch.stack(path) if path is not None else x


# -- discrete VP chain --------------------------------------------------------------
def vp_step(x: Any, beta: Any, noise: Any) -> Any:
    """One forward VP step ``√(1−β) x + √β ε`` (SymPy or tensor); ``β ∈ [0, 1]``."""
    check_unit_interval(beta, "beta")
    return B.sqrt(1 - beta) * x + B.sqrt(beta) * noise


def vp_marginal(x0: Any, alpha_bar: Any, noise: Any, *, check: bool = True) -> Any:
    """The closed form ``√ᾱ x_0 + √(1−ᾱ) ε`` of ``i`` VP steps (SymPy or tensor); ``ᾱ ∈ [0, 1]``
    (``check=False`` skips that check: the training loop's ``ᾱ`` come from a Schedule)."""
    if check:
        check_unit_interval(alpha_bar, "alpha_bar")
    return B.sqrt(alpha_bar) * x0 + B.sqrt(1 - alpha_bar) * noise


def q_sample(schedule: Schedule, x0: torch.Tensor, i: int | torch.Tensor, noise: torch.Tensor | None = None,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``x_i ~ q(x_i | x_0)`` in one shot; returns ``(x_i, ε)``.

    ``x0``: ``(batch, ...)``; ``i``: an int in ``[0, n]`` or a ``(batch,)`` long tensor.
    """
    x0 = check_finite(as_tensor(x0, "x0"), "x0")
    idx = schedule.check_step(i, "i", allow_zero=True).to(x0.device)
    if noise is None:
        noise = _noise_like(x0, generator)
    else:
        noise = check_finite(as_tensor(noise, "noise", dtype=x0.dtype, device=x0.device), "noise")
        check_same_shape(x0, noise, "x0", "noise")
    ab = schedule.alpha_bars.to(device=x0.device, dtype=x0.dtype)[idx]
    if idx.dim() == 1:
        if x0.dim() < 1 or idx.shape[0] != x0.shape[0]:
            raise ValueError(f"per-sample steps of shape {tuple(idx.shape)} need x0 with batch size {idx.shape[0]}, "
                             f"got x0 of shape {tuple(x0.shape)}")
        ab = ab.reshape((-1,) + (1,) * (x0.dim() - 1))
    elif idx.dim() > 1:
        raise ValueError(f"i must be an int or a 1-D tensor of per-sample steps, got shape {tuple(idx.shape)}")
    return vp_marginal(x0, ab, noise), noise


def markov_chain(schedule: Schedule, x0: torch.Tensor, generator: torch.Generator | None = None,
                 steps: int | None = None, return_path: bool = False) -> torch.Tensor:
    """Run the VP chain step by step from ``x0`` for ``steps`` (default ``n``) steps.

    Returns ``x_steps`` (shape of ``x0``) or the path ``(steps + 1, *x0.shape)``.
    """
    x = check_finite(as_tensor(x0, "x0"), "x0").clone()
    steps = schedule.n if steps is None else int(schedule.check_step(steps, "steps", allow_zero=True))
    betas = schedule.betas.to(dtype=x.dtype).tolist()
    path = [x.clone()] if return_path else None
    for i in range(1, steps + 1):
        x = vp_step(x, torch.tensor(betas[i], dtype=x.dtype, device=x.device), _noise_like(x, generator))
        if path is not None:
            path.append(x.clone())
    return torch.stack(path) if path is not None else x
