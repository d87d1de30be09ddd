"""The coding exercise of the chapter "The Ornstein–Uhlenbeck forward process".

``ou-ex-vp-forward``: the student writes ``vp_forward(x0, i, eps, betas)`` returning ``x_i``
given ``x0`` in one jump, where ``betas`` is a 1-D tensor holding ``β_1..β_n`` (so
``β_j = betas[j − 1]``) and ``i ∈ {0, …, n}``. The cases use large, unequal β so that every
usual mistake changes the answer visibly. The answer and the mistakes live in
:mod:`ddpm_course.solutions.ou` (not in the student edition).
"""
from __future__ import annotations

import torch

from ._engine import Exercise, exercise

__all__ = ["EXERCISE", "EXERCISE_VP_FORWARD"]

EXERCISE_VP_FORWARD = "ou-ex-vp-forward"
PUBLIC_SEED = 1234


def _cases(seed: int | None) -> list[tuple[torch.Tensor, int, torch.Tensor, torch.Tensor]]:
    """``(x0, i, eps, betas)`` at i = 1, 2, 4, 6 and 0 of six large, unequal β."""
    gen = torch.Generator().manual_seed(PUBLIC_SEED if seed is None else seed)
    betas = torch.tensor([0.05, 0.3, 0.12, 0.4, 0.2, 0.25], dtype=torch.float64)
    x0 = torch.randn(5, 2, generator=gen, dtype=torch.float64) + 1.5
    eps = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    return [(x0, i, eps, betas) for i in (1, 2, 4, 6, 0)]


EXERCISE = exercise(Exercise(
    id=EXERCISE_VP_FORWARD, function="vp_forward", params=("x0", "i", "eps", "betas"), output="x_i",
    cases=_cases, describe=lambda c: f"i = {c[1]}" if c else "a case",
    unmatched={"out": "the answer matches none of the usual mistakes. Check the closed form of q(x_i | x_0) "
                      "from the chapter, and what ᾱ_i is at i = 0"},
    nan_hint="a square root of a negative number? α_j = 1 − β_j lies in (0, 1).",
    success="x_i agrees with the reference at every step, i = 0 included.",
))
