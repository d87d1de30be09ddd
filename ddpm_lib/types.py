"""The callable contracts of the package, typed once (every module imports them from here).

* :data:`ScoreFn` — ``score(x, t)``: the score ``∇ log p_t(x)`` at **forward OU time** ``t``,
  a Python float or a ``(batch,)`` floating tensor; ``x (batch, ...)`` -> ``x``'s shape.
* :data:`EpsFn` — ``eps(x, i)``: the ε-prediction at **integer step** ``i`` of a
  :class:`~ddpm_lib.schedules.Schedule`, a Python int or a ``(batch,)`` long tensor;
  ``ε(x_i, i) = −√(1 − ᾱ_i) ∇ log p_i(x_i)``, ``x (batch, ...)`` -> ``x``'s shape.
* :data:`Callback` — ``callback(info)``, called by every sampler with the start state
  (``info["k"] == 0``) and after each step ``k = 1..n_steps``; ``info`` holds ``"k"``,
  ``"n_steps"``, ``"x"`` (the state, never modified afterwards) and the state's position:
  ``"t"`` (forward time, grid samplers) or ``"i"`` (schedule step, chain samplers).

A time is never an int and a step never a float: :func:`ddpm_lib.samplers.score_from_eps`
and :func:`ddpm_lib.samplers.eps_from_score` convert between the two contracts.
"""
from __future__ import annotations

from typing import Any, Callable, Union

import torch

__all__ = ["Time", "Step", "ScoreFn", "EpsFn", "Callback", "SamplerInfo"]

Time = Union[float, torch.Tensor]
"""A forward OU time: a Python float or a ``(batch,)`` floating tensor."""
Step = Union[int, torch.Tensor]
"""A schedule step ``i ∈ 1..n``: a Python int or a ``(batch,)`` long tensor."""
ScoreFn = Callable[[torch.Tensor, Time], torch.Tensor]
EpsFn = Callable[[torch.Tensor, Step], torch.Tensor]
SamplerInfo = dict[str, Any]
Callback = Callable[[SamplerInfo], None]
