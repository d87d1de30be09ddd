"""The coding exercise of the chapter "DDPM in discrete steps".

``ddpm-ex-ancestral-step``: the student writes ``ancestral_step(x, eps_hat, z, i, schedule)``
returning one step of DDPM's ancestral sampler with the posterior variance β̃_i, with the
arrays of a :class:`ddpm_lib.Schedule` indexed by the step number, ``eps_hat`` the noise
prediction at ``x_i`` and ``z`` the noise. Each case is run with ``z = 0`` and with ``z``, so
that a wrong mean and a wrong noise scale are named separately. The answer and the usual
mistakes live in :mod:`ddpm_course.solutions.ddpm_discrete` (not in the student edition).
"""
from __future__ import annotations

import torch

from ddpm_lib.schedules import linear_schedule
from ._engine import Exercise, exercise

__all__ = ["EXERCISE", "EXERCISE_ANCESTRAL_STEP"]

EXERCISE_ANCESTRAL_STEP = "ddpm-ex-ancestral-step"
PUBLIC_SEED = 2025


def _cases(seed: int | None) -> list[tuple]:
    """``(x, eps_hat, z, i, schedule)`` on a coarse schedule (large, unequal β), i = 2, 5, 11, 12, 1."""
    schedule = linear_schedule(12, beta_start=0.02, beta_end=0.35)
    gen = torch.Generator().manual_seed(PUBLIC_SEED if seed is None else seed)
    cases = []
    for i in (2, 5, 11, 12, 1):
        x = 1.5 * torch.randn(6, 2, generator=gen, dtype=torch.float64)
        e = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        z = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        cases.append((x, e, z, i, schedule))
    return cases


EXERCISE = exercise(Exercise(
    id=EXERCISE_ANCESTRAL_STEP, function="ancestral_step", params=("x", "eps_hat", "z", "i", "schedule"),
    output="x_{i−1}", cases=_cases, describe=lambda c: f"i = {c[3]}" if c else "a case",
    probes={"z0": lambda c: (c[0], c[1], torch.zeros_like(c[2]), *c[3:]), "z": lambda c: c},
    quantities={"mean": lambda p: p["z0"], "noise": lambda p: p["z"] - p["z0"]},
    unmatched={"mean": "with z = 0 your answer matches none of the usual mistakes. Check the mean: β_i, ᾱ_i and "
                       "α_i = 1 − β_i read at index i, the coefficient of ε̂, and how the forward shrinking is undone",
               "noise": "the noise part (your answer minus its value at z = 0) is not the right multiple of z: "
                        "check which variance (β_i or β̃_i), its index, the square root, and that z is added"},
    nan_hint="a division by 1 − ᾱ_0 = 0, or the square root of a negative number?",
    success="x_{i−1} agrees with the reference at every step, with and without noise.",
))
