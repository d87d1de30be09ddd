"""The coding exercise of the chapter "Denoising score matching and training".

``dsm-ex-tweedie``: the student writes ``tweedie_denoise(x_i, score, alpha_bar)`` returning
Tweedie's posterior mean ``E[x_0 | x_i]``, where ``x_i`` is a ``(batch, d)`` tensor, ``score``
the values ``s_i(x_i)`` (same shape) and ``alpha_bar`` a 0-d tensor ``ᾱ_i``. The cases: random
points and scores at four unequal ᾱ, and a Gaussian target with its exact score. The answer
and the mistakes live in :mod:`ddpm_course.solutions.score_matching`.
"""
from __future__ import annotations

import torch

from ._engine import Exercise, exercise

__all__ = ["EXERCISE", "EXERCISE_TWEEDIE", "gaussian_case"]

EXERCISE_TWEEDIE = "dsm-ex-tweedie"
PUBLIC_SEED = 2024


def gaussian_case(seed: int = 7) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``p_0 = N(m, σ² I)`` at ᾱ = 0.3: points, the exact score of ``p_i``, ᾱ, and the posterior mean
    by Gaussian conditioning (an independent value of the answer)."""
    gen = torch.Generator().manual_seed(seed)
    ab, m, var = torch.tensor(0.3, dtype=torch.float64), torch.tensor([1.0, -2.0], dtype=torch.float64), 0.5
    x = torch.randn(8, 2, generator=gen, dtype=torch.float64) + ab.sqrt() * m
    v = ab * var + 1 - ab
    score = -(x - ab.sqrt() * m) / v
    posterior_mean = m + ab.sqrt() * var / v * (x - ab.sqrt() * m)
    return x, score, ab, posterior_mean


def _cases(seed: int | None) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """``(x_i, score, alpha_bar)`` at ᾱ = 0.9, 0.5, 0.12, 0.98, then the Gaussian case."""
    gen = torch.Generator().manual_seed(PUBLIC_SEED if seed is None else seed)
    cases = []
    for ab, d in ((0.9, 2), (0.5, 3), (0.12, 2), (0.98, 1)):
        x = torch.randn(6, d, generator=gen, dtype=torch.float64) * 1.5
        s = torch.randn(6, d, generator=gen, dtype=torch.float64) * 2.0
        cases.append((x, s, torch.tensor(ab, dtype=torch.float64)))
    x, s, ab, _ = gaussian_case(7 if seed is None else seed + 1)
    cases.append((x, s, ab))
    return cases


EXERCISE = exercise(Exercise(
    id=EXERCISE_TWEEDIE, function="tweedie_denoise", params=("x_i", "score", "alpha_bar"), output="E[x_0 | x_i]",
    cases=_cases, describe=lambda c: f"ᾱ = {float(c[2]):.3g}" if c else "a case",
    unmatched={"out": "the answer matches none of the usual mistakes. Start again from Tweedie's formula for "
                      "x_i = √ᾱ x_0 + √(1 − ᾱ) ε"},
    nan_hint="a square root of a negative number, or a division by 0?",
    success="E[x_0 | x_i] agrees with the reference on every case, and with Gaussian conditioning for a "
            "Gaussian target.",
))
