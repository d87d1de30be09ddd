"""Samplers: Langevin dynamics, the reverse-time SDE, the discrete backward chain, DDPM's
ancestral sampler and the probability-flow ODE.

Each takes a score ``s(x, t)`` (forward OU time ``t``, a Python float here) or an
ε-prediction ``ε(x, i)`` (integer step ``i``, a ``(batch,)`` long tensor here), so the exact
score of :mod:`ddpm_lib.mixtures` and a trained network are interchangeable. Time grids are
*increasing* grids of forward times in ``(0, T]``; the backward samplers run from the last
entry down to the first. ``return_path=True`` returns every state, ordered as the sampler
ran: ``(len(grid), *x.shape)`` or ``(n + 1, *x.shape)`` (entry 0 is the start).

Per-step work is the score evaluation plus a few fused tensor ops: all step sizes, times and
coefficients are precomputed as Python floats.
"""
from __future__ import annotations

import bisect
import math
from typing import Any, Callable

import torch

from .progress import progress_bar
from .schedules import Schedule
from .validation import as_tensor, check_finite, check_positive_float, check_positive_int

__all__ = ["langevin", "reverse_sde_euler", "discrete_backward", "ddpm_ancestral", "ddim", "on_original_steps", "probability_flow_heun",
           "score_from_eps", "eps_from_score"]

ScoreFn = Callable[[torch.Tensor, Any], torch.Tensor]
EpsFn = Callable[[torch.Tensor, Any], torch.Tensor]


# -- argument checks -------------------------------------------------------------------
def _check_callable(fn: Any, name: str) -> None:
    if not callable(fn):
        raise TypeError(f"{name} must be a callable, got {type(fn).__name__}")


def _check_generator(generator: Any) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")


def _check_state(x: Any, name: str, batched: bool = False) -> torch.Tensor:
    x = as_tensor(x, name)
    if x.dim() < (2 if batched else 1):
        want = "(batch, ...) with at least 2 dimensions" if batched else "at least 1 dimension"
        raise ValueError(f"{name} must have {want}, got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    return check_finite(x, name)


def _check_t_grid(t_grid: Any, name: str = "t_grid") -> list[float]:
    if isinstance(t_grid, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D sequence or tensor of times, got {type(t_grid).__name__}")
    if not isinstance(t_grid, torch.Tensor):
        try:  # straight to float64: a Python list must not pass through float32
            t_grid = torch.as_tensor(t_grid, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name} must be a 1-D sequence or tensor of times, got {type(t_grid).__name__}") from exc
    grid = as_tensor(t_grid, name, dtype=torch.float64)
    if grid.dim() != 1 or grid.numel() < 2:
        raise ValueError(f"{name} must be a 1-D increasing grid of at least 2 forward times, got shape "
                         f"{tuple(grid.shape)}")
    if not bool(torch.isfinite(grid).all()):
        raise ValueError(f"{name} must be finite; got NaN or infinity")
    if float(grid[0]) <= 0:
        raise ValueError(f"{name} must lie in (0, T]: its first entry must be > 0 (the score at t = 0 may not "
                         f"exist), got {float(grid[0])}")
    if not bool((grid[1:] > grid[:-1]).all()):
        raise ValueError(f"{name} must be strictly increasing (forward times; samplers run it backwards)")
    return grid.tolist()


def _check_schedule(schedule: Any) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a ddpm_lib.Schedule, got {type(schedule).__name__}")
    return schedule


def _check_output(out: Any, x: torch.Tensor, name: str) -> None:
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{name} must return a tensor of the state's shape {tuple(x.shape)}, got {shape}")


def _noise(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def _finish(x: torch.Tensor, path: list[torch.Tensor] | None) -> torch.Tensor:
    return torch.stack(path) if path is not None else x


# -- samplers --------------------------------------------------------------------------
def langevin(score: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, step_size: float, n_steps: int,
             generator: torch.Generator | None = None, return_path: bool = False, *,
             progress: bool = False) -> torch.Tensor:
    """Unadjusted Langevin ``x ← x + h s(x) + √(2h) z`` (time-free score); ``x0 (..., d)`` -> ``x0``'s shape or ``(n_steps + 1, *x0.shape)``."""
    _check_callable(score, "score")
    _check_generator(generator)
    h = check_positive_float(step_size, "step_size")
    n_steps = check_positive_int(n_steps, "n_steps")
    x = _check_state(x0, "x0")
    path = [x] if return_path else None
    noise_scale = math.sqrt(2 * h)
    for k in progress_bar(range(n_steps), total=n_steps, desc="langevin", enabled=progress):
        s = score(x)
        if k == 0:
            _check_output(s, x, "score")
        x = (x + h * s).add_(_noise(x, generator), alpha=noise_scale)
        if path is not None:
            path.append(x)
    return _finish(x, path)


def reverse_sde_euler(score: ScoreFn, x_T: torch.Tensor, t_grid: Any, generator: torch.Generator | None = None,
                      return_path: bool = False, *, progress: bool = False) -> torch.Tensor:
    """Euler–Maruyama for the reverse SDE ``dx = (½x + s(x, T − t')) dt' + dW`` over ``t_grid`` from its last entry to its first.

    Each step from ``t_j`` to ``t_{j−1}`` (``h = t_j − t_{j−1}``) is
    ``x ← x + h (½ x + s(x, t_j)) + √h z``, with noise at every step (plain Euler–Maruyama,
    so the result approximates ``p_{t_0}``). ``x_T (batch, ...)`` -> ``x_T``'s shape or ``(len(t_grid), *x_T.shape)``.
    """
    _check_callable(score, "score")
    _check_generator(generator)
    grid = _check_t_grid(t_grid)
    x = _check_state(x_T, "x_T")
    path = [x] if return_path else None
    m = len(grid) - 1
    for k in progress_bar(range(m), total=m, desc="reverse SDE", enabled=progress):
        j = m - k
        t, h = grid[j], grid[j] - grid[j - 1]
        s = score(x, t)
        if k == 0:
            _check_output(s, x, "score")
        x = (x * (1 + 0.5 * h)).add_(s, alpha=h).add_(_noise(x, generator), alpha=math.sqrt(h))
        if path is not None:
            path.append(x)
    return _finish(x, path)


def discrete_backward(score: ScoreFn, schedule: Schedule, x_n: torch.Tensor, generator: torch.Generator | None = None,
                      return_path: bool = False, *, progress: bool = False) -> torch.Tensor:
    """The backward VP chain ``x_{i−1} = (x_i + β_i s(x_i, t_i)) / √(1−β_i) + √β_i z`` for ``i = n..1``, no noise at ``i = 1``.

    The score is evaluated at ``x_i`` with ``t_i = schedule.times[i]`` and ``β_i = schedule.betas[i]``.
    ``x_n (batch, ...)`` -> ``x_0`` (``x_n``'s shape) or the path ``(n + 1, *x_n.shape)`` from ``x_n`` to ``x_0``.
    """
    _check_callable(score, "score")
    schedule = _check_schedule(schedule)
    _check_generator(generator)
    x = _check_state(x_n, "x_n")
    betas = schedule.betas.tolist()
    times = schedule.times.tolist()
    n = schedule.n
    path = [x] if return_path else None
    for i in progress_bar(range(n, 0, -1), total=n, desc="discrete backward", enabled=progress):
        beta = betas[i]
        s = score(x, times[i])
        if i == n:
            _check_output(s, x, "score")
        x = (x + beta * s).mul_(1 / math.sqrt(1 - beta))
        if i > 1:
            x = x.add_(_noise(x, generator), alpha=math.sqrt(beta))
        if path is not None:
            path.append(x)
    return _finish(x, path)


def ddpm_ancestral(eps: EpsFn, schedule: Schedule, x_n: torch.Tensor, generator: torch.Generator | None = None,
                   variance: str = "beta", return_path: bool = False, *, progress: bool = False) -> torch.Tensor:
    """DDPM's sampler ``x_{i−1} = (x_i − β_i/√(1−ᾱ_i) ε(x_i, i)) / √α_i + σ_i z``, ``σ_i² = β_i`` or ``β̃_i``, no noise at ``i = 1``.

    ``eps`` is called with ``x_i`` and a ``(batch,)`` long tensor filled with ``i``.
    ``x_n (batch, ...)`` -> ``x_0`` (``x_n``'s shape) or the path ``(n + 1, *x_n.shape)``.
    """
    _check_callable(eps, "eps")
    schedule = _check_schedule(schedule)
    _check_generator(generator)
    if variance not in ("beta", "beta_tilde"):
        raise ValueError(f"variance must be 'beta' or 'beta_tilde', got {variance!r}")
    x = _check_state(x_n, "x_n", batched=True)
    n = schedule.n
    betas = schedule.betas.tolist()
    alpha_bars = schedule.alpha_bars.tolist()
    sig2 = betas if variance == "beta" else schedule.posterior_variances.tolist()
    batch = x.shape[0]
    path = [x] if return_path else None
    for i in progress_bar(range(n, 0, -1), total=n, desc="DDPM ancestral", enabled=progress):
        beta = betas[i]
        steps = torch.full((batch,), i, dtype=torch.long, device=x.device)
        e = eps(x, steps)
        if i == n:
            _check_output(e, x, "eps")
        x = (x - (beta / math.sqrt(1 - alpha_bars[i])) * e).mul_(1 / math.sqrt(1 - beta))
        if i > 1:
            x = x.add_(_noise(x, generator), alpha=math.sqrt(sig2[i]))
        if path is not None:
            path.append(x)
    return _finish(x, path)


def ddim(eps: EpsFn, schedule: Schedule, x_n: torch.Tensor, steps: int | None = None,
         return_path: bool = False, *, progress: bool = False) -> torch.Tensor:
    """Deterministic DDIM (η = 0): ``x_j = √ᾱ_j x̂_0 + √(1−ᾱ_j) ε(x_i, i)`` with ``x̂_0 = (x_i − √(1−ᾱ_i) ε)/√ᾱ_i``.

    Runs over ``steps`` evenly spaced steps ``n = i_1 > … > i_k ≥ 1`` of the schedule (default: all
    ``n``), ending at ``j = 0``; it is an Euler step of the probability-flow ODE in the variables
    ``x/√ᾱ`` and ``√((1−ᾱ)/ᾱ)``. ``x_n (batch, ...)`` -> ``x_0`` or the path ``(k + 1, *x_n.shape)``.
    """
    _check_callable(eps, "eps")
    schedule = _check_schedule(schedule)
    x = _check_state(x_n, "x_n", batched=True)
    n = schedule.n
    k = n if steps is None else check_positive_int(steps, "steps")
    if k > n:
        raise ValueError(f"steps must be at most the schedule's n = {n}, got {k}")
    grid = torch.linspace(n, 1, k, dtype=torch.float64).round().long().unique_consecutive().tolist()
    alpha_bars = schedule.alpha_bars.tolist()
    batch = x.shape[0]
    path = [x] if return_path else None
    for m, i in enumerate(progress_bar(grid, total=len(grid), desc="DDIM", enabled=progress)):
        j = grid[m + 1] if m + 1 < len(grid) else 0
        a_i, a_j = alpha_bars[i], alpha_bars[j]
        e = eps(x, torch.full((batch,), i, dtype=torch.long, device=x.device))
        if m == 0:
            _check_output(e, x, "eps")
        x0_hat = (x - math.sqrt(1 - a_i) * e) / math.sqrt(a_i)
        x = math.sqrt(a_j) * x0_hat + math.sqrt(1 - a_j) * e
        if path is not None:
            path.append(x)
    return _finish(x, path)


def probability_flow_heun(score: ScoreFn, x_start: torch.Tensor, t_grid: Any, direction: str = "backward",
                          return_path: bool = False, *, progress: bool = False) -> torch.Tensor:
    """Heun's method for the probability-flow ODE ``dx/dt = −½x − ½ s(x, t)`` (forward time); deterministic.

    ``direction="backward"`` decodes noise -> data (from ``t_grid[-1]`` down to ``t_grid[0]``),
    ``"forward"`` encodes data -> noise (``t_grid[0]`` up to ``t_grid[-1]``); two score
    evaluations per step. ``x_start (batch, ...)`` -> its shape or ``(len(t_grid), *x_start.shape)``.
    """
    _check_callable(score, "score")
    if direction not in ("backward", "forward"):
        raise ValueError(f"direction must be 'backward' or 'forward', got {direction!r}")
    grid = _check_t_grid(t_grid)
    if direction == "backward":
        grid = grid[::-1]
    x = _check_state(x_start, "x_start")
    path = [x] if return_path else None
    m = len(grid) - 1
    for k in progress_bar(range(m), total=m, desc=f"probability flow ({direction})", enabled=progress):
        t0, t1 = grid[k], grid[k + 1]
        h = t1 - t0
        s0 = score(x, t0)
        if k == 0:
            _check_output(s0, x, "score")
        d0 = (x + s0).mul_(-0.5)  # dx/dt at (x, t0)
        x_euler = x + h * d0
        d1 = (x_euler + score(x_euler, t1)).mul_(-0.5)
        x = (x + (0.5 * h) * d0).add_(d1, alpha=0.5 * h)
        if path is not None:
            path.append(x)
    return _finish(x, path)


# -- converters ------------------------------------------------------------------------
def on_original_steps(eps: EpsFn, taus: torch.Tensor) -> EpsFn:
    """An ε-predictor of a schedule, called with the steps ``j`` of its respacing, evaluated at ``taus[j]``.

    Pair it with ``schedule.respace(k)``: ``sub, taus = schedule.respace(k)``, then
    ``ddpm_ancestral(on_original_steps(eps, taus), sub, x_n)`` samples in ``k`` steps.
    """
    _check_callable(eps, "eps")
    taus = torch.as_tensor(taus, dtype=torch.long)

    @torch.no_grad()  # sampling needs no gradients of the predictor
    def eps_respaced(x: torch.Tensor, j: int | torch.Tensor) -> torch.Tensor:
        return eps(x, taus.to(x.device)[j])

    return eps_respaced


def score_from_eps(eps: EpsFn, schedule: Schedule) -> ScoreFn:
    """``s(x, i) = −ε(x, i) / √(1−ᾱ_i)``: a score from an ε-predictor; ``x (batch, ...)``.

    The returned callable takes the step in either form:

    * an **integer step** (a Python int or an integer tensor, scalar or ``(batch,)``) — used as is;
    * a **forward time** (a Python float or a floating tensor) — mapped to the step ``i ∈ 1..n``
      whose ``schedule.times[i]`` is nearest (exact when ``t`` is a grid time, so it plugs into
      :func:`discrete_backward` directly, and into :func:`reverse_sde_euler` /
      :func:`probability_flow_heun` with ``t_grid = schedule.times[1:]``). Times outside
      ``[0, t_n + β_n]`` raise ``ValueError``.

    ``eps`` is always called with a ``(batch,)`` long tensor of steps.
    """
    _check_callable(eps, "eps")
    schedule = _check_schedule(schedule)
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

    def score(x: torch.Tensor, i: Any) -> torch.Tensor:
        batch = x.shape[0]
        if isinstance(i, bool):
            raise TypeError("the step must be an int, an integer tensor or a time, got a bool")
        if isinstance(i, int):
            steps = int(schedule.check_step(i, "i"))
        elif isinstance(i, float):
            steps = nearest_step(i)
        elif isinstance(i, torch.Tensor):
            if i.is_floating_point():
                tt = i.to(torch.float64).reshape(-1)
                if not bool(((tt >= 0) & (tt <= t_max)).all()):
                    raise ValueError(f"times must lie in this schedule's range [0, {t_max:.6g}]")
                grid = schedule.times.to(tt.device)
                j = torch.searchsorted(grid, tt).clamp(1, n)
                take_lower = (tt - grid[j - 1]) <= (grid[j] - tt)
                steps = torch.where(take_lower, j - 1, j).clamp(1, n).reshape(i.shape)
            else:
                steps = schedule.check_step(i, "i")
            if steps.dim() == 0:
                steps = int(steps)
        else:
            raise TypeError(f"the step must be an int, an integer tensor or a time, got {type(i).__name__}")
        if isinstance(steps, int):
            e = eps(x, torch.full((batch,), steps, dtype=torch.long, device=x.device))
            return e * (-1 / sigma_list[steps])
        steps = steps.to(x.device)
        if steps.shape != (batch,):
            raise ValueError(f"per-sample steps must have shape ({batch},), got {tuple(steps.shape)}")
        sig = sigmas.to(device=x.device, dtype=x.dtype)[steps].reshape((batch,) + (1,) * (x.dim() - 1))
        return -eps(x, steps) / sig

    return score


def eps_from_score(score: ScoreFn, schedule: Schedule) -> EpsFn:
    """``ε(x, i) = −√(1−ᾱ_i) s(x, t_i)`` with ``t_i = schedule.times[i]``; ``i`` an int or a ``(batch,)`` long tensor.

    Note: with an exact OU score this uses ``p_{t_i}`` (``e^{−t_i} ≈ ᾱ_i``), not the discrete
    marginal; :meth:`ddpm_lib.mixtures.GaussianMixture.eps_fn` is the exact discrete one.
    """
    _check_callable(score, "score")
    schedule = _check_schedule(schedule)
    times = schedule.times
    times_list = times.tolist()
    sigmas = torch.sqrt(1 - schedule.alpha_bars)
    sigma_list = sigmas.tolist()

    def eps(x: torch.Tensor, i: Any) -> torch.Tensor:
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
