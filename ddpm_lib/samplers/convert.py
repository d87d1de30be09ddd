"""Converters between the two callable contracts (:data:`~ddpm_lib.types.ScoreFn` and
:data:`~ddpm_lib.types.EpsFn`) and to a respaced schedule."""
from __future__ import annotations

import bisect

import torch

from ..schedules import Schedule
from ..types import EpsFn, ScoreFn, Step, Time
from ._common import check_callable, check_schedule

__all__ = ["score_from_eps", "eps_from_score", "on_original_steps"]


def on_original_steps(eps: EpsFn, taus: torch.Tensor) -> EpsFn:
    """An ε-predictor of a schedule, called with the steps ``j`` of its respacing, evaluated at ``taus[j]``.

    Pair it with ``schedule.respace(k)``: ``sub, taus = schedule.respace(k)``, then
    ``ddpm_ancestral(on_original_steps(eps, taus), x_n, sub)`` samples in ``k`` steps.
    """
    check_callable(eps, "eps")
    taus = torch.as_tensor(taus, dtype=torch.long)

    @torch.no_grad()  # sampling needs no gradients of the predictor
    def eps_respaced(x: torch.Tensor, j: Step) -> torch.Tensor:
        return eps(x, taus.to(x.device)[j])

    return eps_respaced


def score_from_eps(eps: EpsFn, schedule: Schedule) -> ScoreFn:
    """``s(x, t) = −ε(x, i(t)) / √(1−ᾱ_{i(t)})``: a score from an ε-predictor; ``x (batch, ...)``.

    ``t`` is a **forward time** (a Python float, or a ``(batch,)`` floating tensor), mapped to the step
    ``i(t) ∈ 1..n`` whose ``schedule.times[i]`` is nearest — exact at the grid times, so it plugs into
    :func:`discrete_backward`, and into the time-grid samplers with ``grid = schedule.times[1:]``.
    An int or integer tensor is refused (a step is not a time: call ``eps`` directly). Times
    outside ``[0, t_n + β_n]`` raise ``ValueError``.
    """
    check_callable(eps, "eps")
    schedule = check_schedule(schedule)
    n = schedule.n
    times_list = schedule.times.tolist()
    t_max = times_list[-1] + schedule.betas[-1].item()
    sigmas = torch.sqrt(1 - schedule.alpha_bars)  # (n + 1,)
    sigma_list = sigmas.tolist()

    def nearest_step(t: float) -> int:
        if not (0 <= t <= t_max):
            raise ValueError(f"t = {t} lies outside this schedule's times [0, {t_max:.6g}]")
        j = bisect.bisect_left(times_list, t)
        if j > n or (j > 0 and t - times_list[j - 1] <= times_list[j] - t):
            j -= 1
        return min(max(j, 1), n)

    def score(x: torch.Tensor, t: Time) -> torch.Tensor:
        batch = x.shape[0]
        if isinstance(t, float):
            i = nearest_step(t)
            return eps(x, torch.full((batch,), i, dtype=torch.long, device=x.device)) * (-1 / sigma_list[i])
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise TypeError(f"score_from_eps's score takes a forward time t (a float or a floating tensor), got "
                            f"{type(t).__name__ if not isinstance(t, torch.Tensor) else t.dtype}; "
                            "for an integer step i call the ε-predictor itself")
        if t.dim() == 0:
            return score(x, float(t))
        tt = t.to(torch.float64).reshape(-1)
        if tt.shape != (batch,):
            raise ValueError(f"per-sample times must have shape ({batch},), got {tuple(t.shape)}")
        if not bool(((tt >= 0) & (tt <= t_max)).all()):
            raise ValueError(f"times must lie in this schedule's range [0, {t_max:.6g}]")
        grid = schedule.times.to(tt.device)
        j = torch.searchsorted(grid, tt).clamp(1, n)
        steps = torch.where((tt - grid[j - 1]) <= (grid[j] - tt), j - 1, j).clamp(1, n).to(x.device)
        sig = sigmas.to(device=x.device, dtype=x.dtype)[steps].reshape((batch,) + (1,) * (x.dim() - 1))
        return -eps(x, steps) / sig

    return score


def eps_from_score(score: ScoreFn, schedule: Schedule) -> EpsFn:
    """``ε(x, i) = −√(1−ᾱ_i) s(x, t_i)`` with ``t_i = schedule.times[i]``; ``i`` an int or a ``(batch,)`` long tensor.

    Note: with an exact OU score this uses ``p_{t_i}`` (``e^{−t_i} ≈ ᾱ_i``), not the discrete
    marginal; :meth:`ddpm_lib.mixtures.GaussianMixture.eps_fn` is the exact discrete one.
    """
    check_callable(score, "score")
    schedule = check_schedule(schedule)
    times = schedule.times
    times_list = times.tolist()
    sigmas = torch.sqrt(1 - schedule.alpha_bars)
    sigma_list = sigmas.tolist()

    def eps(x: torch.Tensor, i: Step) -> torch.Tensor:
        idx = schedule.check_step(i, "i")
        if idx.dim() == 0:
            k = int(idx)
            return score(x, times_list[k]) * (-sigma_list[k])
        if idx.dim() != 1 or idx.shape[0] != x.shape[0]:
            raise ValueError(f"per-sample steps i of shape {tuple(idx.shape)} need x with batch size "
                             f"{idx.shape[0]}, got x of shape {tuple(x.shape)}")
        idx = idx.to(x.device)
        # a batch of one repeated step (as the samplers pass) takes the fast scalar-time path
        first = int(idx[0])
        if bool((idx == first).all()):
            return score(x, times_list[first]) * (-sigma_list[first])
        sig = sigmas.to(device=x.device, dtype=x.dtype)[idx].reshape((-1,) + (1,) * (x.dim() - 1))
        return -sig * score(x, times.to(device=x.device, dtype=x.dtype)[idx])

    return eps
