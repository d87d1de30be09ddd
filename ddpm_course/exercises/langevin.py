"""Checkers for the exercises of the chapter *Langevin dynamics* (``book/langevin.ipynb``).

``langevin-step``: one step of the unadjusted Langevin chain in the book's notation,
``langevin_step(x, score, h, z) = x + h s(x) + √(2h) z``. The checker runs the answer on
cases with a known result (a linear score, fixed noise ``z``) and, when the answer is wrong,
compares it with the usual mistakes (``√h`` noise, ``h/2`` drift, the ``ε/2``–``√ε``
convention, a flipped sign, no noise, …) to name the one that was made.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from . import Feedback, register

__all__ = ["check_langevin_step", "reference_langevin_step"]

_ID = "langevin-step"


def reference_langevin_step(x: torch.Tensor, score: Callable[[torch.Tensor], torch.Tensor], h: float,
                            z: torch.Tensor) -> torch.Tensor:
    """The reference answer: ``x + h s(x) + √(2h) z``."""
    return x + h * score(x) + math.sqrt(2 * h) * z


# each plausible mistake: (name, formula from (x, s, h, z), hint)
_MISTAKES: list[tuple[str, Callable[[torch.Tensor, torch.Tensor, float, torch.Tensor], torch.Tensor], str]] = [
    ("sqrt_h_noise", lambda x, s, h, z: x + h * s + math.sqrt(h) * z,
     "the noise is scaled by √h instead of √(2h). The SDE is dx = s dτ + √2 dW, and over a step h the "
     "Brownian increment √2·(W(τ+h) − W(τ)) has standard deviation √2·√h = √(2h). With √h the chain "
     "samples p^2 (a distribution sharpened around its modes), not p."),
    ("other_convention", lambda x, s, h, z: x + 0.5 * h * s + math.sqrt(h) * z,
     "you used the other convention, x + (h/2) s + √h z (the ε/2, √ε form of Song & Ermon). It is a correct "
     "Langevin step, but of size h/2 in this book's notation dx = s dτ + √2 dW; here the step is "
     "x + h s + √(2h) z. Mind the convention when you read papers."),
    ("half_drift", lambda x, s, h, z: x + 0.5 * h * s + math.sqrt(2 * h) * z,
     "the drift is h s / 2 but the noise is √(2h) z: half of each convention. With dx = s dτ + √2 dW the "
     "drift over a step h is h s(x) (no 1/2). This mixture targets p^(1/2), not p."),
    ("drift_sign", lambda x, s, h, z: x - h * s + math.sqrt(2 * h) * z,
     "the drift has the wrong sign: x − h s(x) walks *down* the log-density, away from the modes. The score "
     "s = ∇ log p points uphill, and the step adds + h s(x)."),
    ("no_noise", lambda x, s, h, z: x + h * s,
     "the noise term is missing: x + h s(x) is gradient ascent on log p, which collapses onto a mode. "
     "Add √(2h) z."),
    ("noise_2h", lambda x, s, h, z: x + h * s + 2 * h * z,
     "the noise is scaled by 2h, not √(2h): the noise's *variance* over a step is 2h, so its scale is the "
     "square root."),
    ("noise_sign", lambda x, s, h, z: x + h * s - math.sqrt(2 * h) * z,
     "the noise enters with a minus sign. In distribution −z is as good as z, but the step is defined "
     "with the given z: x + h s(x) + √(2h) z."),
    ("no_state", lambda x, s, h, z: h * s + math.sqrt(2 * h) * z,
     "the current state x is missing: the step returns the increment h s(x) + √(2h) z, not the new state "
     "x + h s(x) + √(2h) z."),
    ("drift_not_scaled", lambda x, s, h, z: x + s + math.sqrt(2 * h) * z,
     "the drift is not multiplied by the step size: it should be h s(x)."),
]


def _cases() -> list[tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor], float, torch.Tensor]]:
    """Cases with known answers: a linear (non-symmetric) score, fixed x and z, two step sizes."""
    gen = torch.Generator().manual_seed(20240605)
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


@register(_ID)
def check_langevin_step(answer: Callable[..., torch.Tensor]) -> Feedback:
    """Check ``answer(x, score, h, z)`` against ``x + h s(x) + √(2h) z`` and name the mistake if any."""
    if not callable(answer):
        return Feedback(_ID, False, f"pass a function langevin_step(x, score, h, z), got {type(answer).__name__}")
    cases = _cases()
    outs = []
    for x, score, h, z in cases:
        x_in, z_in = x.clone(), z.clone()
        out = answer(x_in, score, h, z_in)
        if not isinstance(out, torch.Tensor):
            return Feedback(_ID, False, f"return a torch.Tensor (the new state), got {type(out).__name__}")
        if not torch.equal(x_in, x) or not torch.equal(z_in, z):
            return Feedback(_ID, False, "your function changed its input x or z in place (e.g. with x += …); "
                                        "return a new tensor and leave the inputs unchanged")
        if out.shape != x.shape:
            return Feedback(_ID, False, f"the new state must have x's shape {tuple(x.shape)}, got {tuple(out.shape)}")
        if not bool(torch.isfinite(out).all()):
            return Feedback(_ID, False, "your step returned NaN or infinity on a finite input")
        outs.append(out.to(torch.float64))

    def matches(formula: Callable[..., torch.Tensor]) -> bool:
        return all(torch.allclose(o, formula(x, score(x), h, z), rtol=1e-9, atol=1e-9)
                   for o, (x, score, h, z) in zip(outs, cases))

    if matches(lambda x, s, h, z: x + h * s + math.sqrt(2 * h) * z):
        return Feedback(_ID, True, "x + h s(x) + √(2h) z: one Euler–Maruyama step of dx = s dτ + √2 dW.")
    for _name, formula, hint in _MISTAKES:
        if matches(formula):
            return Feedback(_ID, False, hint)
    worst = max(float((o - (x + h * score(x) + math.sqrt(2 * h) * z)).abs().max())
                for o, (x, score, h, z) in zip(outs, cases))
    return Feedback(_ID, False, f"the new state differs from x + h s(x) + √(2h) z by up to {worst:.3g}. Check "
                                "each of the three terms: the current state x, the drift h·score(x) evaluated at "
                                "the current x, and the noise √(2h)·z.")
