"""What every sampler shares: argument checks, the checked call of the score/ε, and the callbacks.

Every sampler has the signature ``sampler(fn, x, grid, *, generator=None, callback=None, **options)``
and returns the final state with ``x``'s shape; ``callback(info)`` (see :mod:`ddpm_lib.types`)
sees the start (``k = 0``) and every step. :class:`PathRecorder` records the path,
:func:`progress` draws a progress bar, :func:`sample_path` runs a sampler and returns its path.
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ..progress import progress_bar
from ..schedules import Schedule
from ..types import Callback, SamplerInfo
from ..validation import as_tensor, check_finite

__all__ = ["PathRecorder", "sample_path", "progress", "chain"]


class PathRecorder:
    """A callback that keeps every state: ``rec = PathRecorder(); sampler(..., callback=rec); rec.path``.

    ``rec.path`` is ``(n_steps + 1, *x.shape)``, ordered as the sampler ran (entry 0 is the start);
    ``rec.where`` lists each state's ``"t"`` or ``"i"``.
    """

    def __init__(self) -> None:
        self.states: list[torch.Tensor] = []
        self.where: list[float | int | None] = []

    def __call__(self, info: SamplerInfo) -> None:
        if info["k"] == 0:
            self.states, self.where = [], []
        self.states.append(info["x"])
        self.where.append(info.get("t", info.get("i")))

    @property
    def path(self) -> torch.Tensor:
        """The recorded states stacked, ``(n_steps + 1, *x.shape)``."""
        if not self.states:
            raise ValueError("nothing recorded yet: pass this recorder as a sampler's callback first")
        return torch.stack(self.states)


def chain(*callbacks: Callback | None) -> Callback | None:
    """One callback that calls each of ``callbacks`` (``None`` entries skipped) in turn."""
    live = [c for c in callbacks if c is not None]
    if not live:
        return None
    if len(live) == 1:
        return live[0]

    def both(info: SamplerInfo) -> None:
        for c in live:
            c(info)

    return both


def sample_path(sampler: Callable[..., torch.Tensor], fn: Callable, x: torch.Tensor, grid: Any,
                *args: Any, callback: Callback | None = None, **options: Any) -> torch.Tensor:
    """Run ``sampler(fn, x, grid, *args, **options)`` and return its path ``(n_steps + 1, *x.shape)``."""
    rec = PathRecorder()
    sampler(fn, x, grid, *args, callback=chain(rec, callback), **options)
    return rec.path


def progress(desc: str) -> Callback:
    """A callback that draws one :func:`ddpm_lib.progress.progress_bar` over the sampler's steps."""
    state: dict[str, Any] = {}

    def cb(info: SamplerInfo) -> None:
        if info["k"] == 0:
            state["bar"] = progress_bar(total=info["n_steps"], desc=desc)
            return
        state["bar"].update(1)
        if info["k"] == info["n_steps"]:
            state["bar"].close()

    return cb


# -- argument checks -----------------------------------------------------------------------
def check_callable(fn: Any, name: str) -> None:
    if not callable(fn):
        raise TypeError(f"{name} must be a callable, got {type(fn).__name__}")


def check_generator(generator: Any) -> None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")


def check_state(x: Any, batched: bool = False) -> torch.Tensor:
    """The start state ``x``: a finite, non-empty tensor (``(batch, ...)`` with ``batched``)."""
    if isinstance(x, Schedule):
        raise TypeError("x must be the start state (a tensor), got a Schedule: the order is sampler(fn, x, grid)")
    x = as_tensor(x, "x")
    if x.dim() < (2 if batched else 1):
        want = "(batch, ...) with at least 2 dimensions" if batched else "at least 1 dimension"
        raise ValueError(f"x must have {want}, got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"x must not be empty, got shape {tuple(x.shape)}")
    return check_finite(x, "x")


def check_time_grid(t_grid: Any, name: str = "grid") -> list[float]:
    """An increasing 1-D grid of at least 2 forward times in ``(0, ∞)`` -> a list of floats."""
    if isinstance(t_grid, Schedule):
        raise TypeError(f"{name} must be a time grid for this sampler, got a Schedule; use e.g. schedule.times[1:]")
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


def check_schedule(schedule: Any) -> Schedule:
    if not isinstance(schedule, Schedule):
        hint = " (the order is sampler(fn, x, grid))" if isinstance(schedule, torch.Tensor) else ""
        raise TypeError(f"the grid of this sampler must be a ddpm_lib.Schedule, got {type(schedule).__name__}{hint}")
    return schedule


class Run:
    """One sampler run: checks ``fn``, the generator, the state; calls ``fn`` checked; reports to the callback.

    ``where`` is ``"t"`` (time-grid samplers) or ``"i"`` (chain samplers): the key under which
    the callback gets each state's position.
    """

    def __init__(self, fn: Any, fn_name: str, x: Any, generator: Any, callback: Any, where: str,
                 batched: bool = False) -> None:
        check_callable(fn, fn_name)
        check_generator(generator)
        if callback is not None:
            check_callable(callback, "callback")
        self.fn, self.fn_name, self.where = fn, fn_name, where
        self.generator, self.callback = generator, callback
        self.x = check_state(x, batched)
        self.n_steps = 0

    def start(self, n_steps: int, position: float | int) -> torch.Tensor:
        self.n_steps = n_steps
        self.report(0, self.x, position)
        return self.x

    def call(self, x: torch.Tensor, arg: Any, k: int, position: float | int) -> torch.Tensor:
        """``fn(x, arg)``, checked: a tensor of ``x``'s shape with no NaN/infinity (else ``ValueError`` naming step ``k``)."""
        out = self.fn(x, arg)
        if not isinstance(out, torch.Tensor) or out.shape != x.shape:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(f"{self.fn_name} must return a tensor of the state's shape {tuple(x.shape)}, got {shape}")
        if not bool(torch.isfinite(out).all()):
            raise ValueError(f"{self.fn_name} returned NaN or infinity at step {k} of {self.n_steps} "
                             f"({self.where} = {position:.6g}); the sampler stopped there")
        return out

    def noise(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)

    def report(self, k: int, x: torch.Tensor, position: float | int) -> None:
        if self.callback is not None:
            self.callback({"k": k, "n_steps": self.n_steps, "x": x, self.where: position})


def steps_like(x: torch.Tensor, i: int) -> torch.Tensor:
    """A ``(batch,)`` long tensor filled with step ``i``, on ``x``'s device."""
    return torch.full((x.shape[0],), i, dtype=torch.long, device=x.device)
