"""The coding exercise of the chapter "The reverse-time SDE".

``rsde-ex-backward-step``: the student writes ``backward_step(x, z, i, schedule, score)``
returning one step ``x_i → x_{i−1}`` of the discrete backward chain, with the arrays of a
:class:`ddpm_lib.Schedule` indexed by the step number and ``score(x, t)`` taking the forward
OU time. Each case is run with the noise switched off (``z = 0``) and on, so that a wrong
deterministic part and a wrong noise scale are named separately. The answer and the usual
mistakes live in :mod:`ddpm_course.solutions.reverse_sde` (not in the student edition).
"""
from __future__ import annotations

import torch

from ddpm_lib.mixtures import ring_mixture
from ddpm_lib.schedules import linear_schedule
from ._engine import Exercise, exercise

__all__ = ["EXERCISE", "EXERCISE_BACKWARD_STEP"]

EXERCISE_BACKWARD_STEP = "rsde-ex-backward-step"
PUBLIC_SEED = 2024


def _cases(seed: int | None) -> list[tuple]:
    """``(x, z, i, schedule, score)`` on a coarse schedule (large, unequal β), a ring mixture's score."""
    schedule = linear_schedule(12, beta_start=0.02, beta_end=0.35)
    score = ring_mixture(k=4, radius=2.0, std=0.4).score_fn()
    gen = torch.Generator().manual_seed(PUBLIC_SEED if seed is None else seed)
    cases = []
    for i in (2, 5, 11, 1, 12):
        x = 1.5 * torch.randn(6, 2, generator=gen, dtype=torch.float64)
        z = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        cases.append((x, z, i, schedule, score))
    return cases


EXERCISE = exercise(Exercise(
    id=EXERCISE_BACKWARD_STEP, function="backward_step", params=("x", "z", "i", "schedule", "score"),
    output="x_{i−1}", cases=_cases, describe=lambda c: f"i = {c[2]}" if c else "a case",
    probes={"z0": lambda c: (c[0], torch.zeros_like(c[1]), *c[2:]), "z": lambda c: c},
    quantities={"mean": lambda p: p["z0"], "noise": lambda p: p["z"] - p["z0"]},
    unmatched={"mean": "with z = 0 your answer matches none of the usual mistakes. Check the deterministic part: "
                       "which β and which forward time step i uses, and how it undoes the forward step",
               "noise": "the noise part (your answer minus its value at z = 0) is not the right multiple of z: "
                        "check the index, the square root, and that the z passed in is added"},
    nan_hint="a square root of a negative number, or 1/√(1 − β) at β = 1?",
    success="x_{i−1} agrees with the reference at every step, with and without noise.",
))
