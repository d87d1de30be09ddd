"""The coding exercise of the chapter *Langevin dynamics* (``book/langevin.ipynb``).

``langevin-step``: one step of the unadjusted Langevin chain in the book's notation,
``langevin_step(x, score, h, z)``. The cases: a linear (non-symmetric) score in 2-D at two
step sizes, and a non-linear 1-D score, with fixed ``x`` and ``z``. The answer and the usual
mistakes live in :mod:`ddpm_course.solutions.langevin` (not in the student edition).
"""
from __future__ import annotations

from typing import Callable

import torch

from ._engine import Exercise, exercise

__all__ = ["EXERCISE"]

PUBLIC_SEED = 20240605


def _cases(seed: int | None) -> list[tuple[torch.Tensor, Callable, float, torch.Tensor]]:
    """``(x, score, h, z)`` for a linear score (2-D, h = 0.1 and 0.37) and a non-linear one (1-D)."""
    gen = torch.Generator().manual_seed(PUBLIC_SEED if seed is None else seed)
    a = torch.tensor([[1.3, 0.4], [-0.2, 0.7]], dtype=torch.float64)
    m = torch.tensor([0.5, -1.0], dtype=torch.float64)

    def linear_score(x: torch.Tensor) -> torch.Tensor:
        return -(x - m) @ a.T

    def gm_like_score(x: torch.Tensor) -> torch.Tensor:  # 1-D, non-linear
        return -x + 2 * torch.tanh(2 * x)

    cases = []
    for h in (0.1, 0.37):
        x = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        z = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        cases.append((x, linear_score, h, z))
    x = torch.randn(5, 1, generator=gen, dtype=torch.float64)
    z = torch.randn(5, 1, generator=gen, dtype=torch.float64)
    cases.append((x, gm_like_score, 0.05, z))
    return cases


EXERCISE = exercise(Exercise(
    id="langevin-step", function="langevin_step", params=("x", "score", "h", "z"), output="(the new state)",
    cases=_cases, describe=lambda c: f"h = {c[2]:g}, x of shape {tuple(c[0].shape)}" if c else "a case",
    unmatched={"out": "the new state matches none of the usual mistakes. Check each term of the step: "
                      "the current state, the drift (the score at the current x, times what?), and the noise "
                      "(its scale over a step of size h)"},
    nan_hint="your step returned NaN or infinity on a finite input.",
    success="your step agrees with the reference on every case (two scores, three step sizes).",
    rtol=1e-9, atol=1e-9,
))
