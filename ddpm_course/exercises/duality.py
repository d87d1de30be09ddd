"""The coding exercise of the chapter "Forward–backward duality" (``book/duality.ipynb``).

``ex-duality-kl-code``: ``kl_gaussian_to_standard(mu, var, T)`` returns ``KL(p_T ‖ N(0, I))``
for ``p_0 = N(mu, diag(var))`` pushed through the OU process up to time ``T`` (a 0-dim tensor
or a float). The cases cover d = 1..3, small and large T (at T = 30 the KL vanishes). The
answer and the mistakes live in :mod:`ddpm_course.solutions.duality`.
"""
from __future__ import annotations

import torch

from ._engine import Exercise, exercise

__all__ = ["EXERCISE"]

EXERCISE_ID = "ex-duality-kl-code"
_PUBLIC: list[tuple[list[float], list[float], float]] = [
    ([1.0], [1.0], 1.0),
    ([0.5, -2.0, 0.0], [0.25, 2.0, 1.0], 0.7),
    ([3.0, 1.0], [0.1, 4.0], 2.5),
    ([-1.5], [0.5], 0.2),
    ([1.0, -0.5], [0.5, 2.0], 30.0),
]


def _cases(seed: int | None) -> list[tuple[torch.Tensor, torch.Tensor, float]]:
    """``(mu, var, T)``: the public list, or as many of the same dimensions drawn from ``seed``."""
    if seed is None:
        return [(torch.tensor(m, dtype=torch.float64), torch.tensor(v, dtype=torch.float64), T) for m, v, T in _PUBLIC]
    gen = torch.Generator().manual_seed(seed)
    cases = []
    for m, _, T in _PUBLIC:
        d = len(m)
        mu = 2 * torch.randn(d, generator=gen, dtype=torch.float64)
        var = torch.exp(torch.randn(d, generator=gen, dtype=torch.float64))
        t = T if T > 10 else float(0.2 + 2.3 * torch.rand((), generator=gen, dtype=torch.float64))
        cases.append((mu, var, t))
    return cases


def _scalar(p: dict) -> torch.Tensor:
    out = p["out"]
    return out.reshape(()) if out.numel() == 1 else out


EXERCISE = exercise(Exercise(
    id=EXERCISE_ID, function="kl_gaussian_to_standard", params=("mu", "var", "T"), output="(the KL, one number)",
    cases=_cases, describe=lambda c: f"d = {c[0].numel()}, T = {c[2]:.3g}" if c else "a case",
    quantities={"out": _scalar},
    unmatched={"out": "the KL matches none of the usual mistakes. Recall the law of p_T per coordinate (mean and "
                      "variance of the OU process) and the KL between two 1-D Gaussians"},
    nan_hint="is the log taken of a positive variance?",
    success="the KL agrees with the reference on every case, including its decay to 0 at large T.",
    rtol=1e-6, atol=1e-10,
))
