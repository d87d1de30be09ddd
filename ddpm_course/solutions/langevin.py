"""Solution of ``langevin-step`` (chapter *Langevin dynamics*) and the usual mistakes."""
from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["reference_langevin_step", "MISTAKES", "SOLUTIONS"]


def reference_langevin_step(x: torch.Tensor, score: Callable[[torch.Tensor], torch.Tensor], h: float,
                            z: torch.Tensor) -> torch.Tensor:
    """The reference answer: ``x + h s(x) + √(2h) z``."""
    return x + h * score(x) + math.sqrt(2 * h) * z


def _m(formula: Callable) -> Callable:
    """A wrong answer from a formula of ``(x, s(x), h, z)``."""
    return lambda x, score, h, z: formula(x, score(x), h, z)


MISTAKES: list[tuple[str, Callable, str]] = [
    ("sqrt_h_noise", _m(lambda x, s, h, z: x + h * s + math.sqrt(h) * z),
     "the noise is scaled by √h instead of √(2h). The SDE is dx = s dτ + √2 dW, and over a step h the "
     "Brownian increment √2·(W(τ+h) − W(τ)) has standard deviation √2·√h. With √h the chain "
     "samples p^2 (a distribution sharpened around its modes), not p."),
    ("other_convention", _m(lambda x, s, h, z: x + 0.5 * h * s + math.sqrt(h) * z),
     "you used the other convention, x + (h/2) s + √h z (the ε/2, √ε form of Song & Ermon). It is a correct "
     "Langevin step, but of size h/2 in this book's notation dx = s dτ + √2 dW. Mind the convention when you "
     "read papers."),
    ("half_drift", _m(lambda x, s, h, z: x + 0.5 * h * s + math.sqrt(2 * h) * z),
     "the drift is h s / 2 but the noise is √(2h) z: half of each convention. With dx = s dτ + √2 dW the "
     "drift over a step h has no 1/2. This mixture targets p^(1/2), not p."),
    ("drift_sign", _m(lambda x, s, h, z: x - h * s + math.sqrt(2 * h) * z),
     "the drift has the wrong sign: x − h s(x) walks *down* the log-density, away from the modes. The score "
     "s = ∇ log p points uphill."),
    ("no_noise", _m(lambda x, s, h, z: x + h * s),
     "the noise term is missing: x + h s(x) is gradient ascent on log p, which collapses onto a mode."),
    ("noise_2h", _m(lambda x, s, h, z: x + h * s + 2 * h * z),
     "the noise is scaled by 2h: the noise's *variance* over a step is 2h, so its scale is the square root."),
    ("noise_sign", _m(lambda x, s, h, z: x + h * s - math.sqrt(2 * h) * z),
     "the noise enters with a minus sign. In distribution −z is as good as z, but the step is defined "
     "with the given z, added."),
    ("no_state", _m(lambda x, s, h, z: h * s + math.sqrt(2 * h) * z),
     "the current state x is missing: you return the increment of the step, not the new state."),
    ("drift_not_scaled", _m(lambda x, s, h, z: x + s + math.sqrt(2 * h) * z),
     "the drift is not multiplied by the step size h."),
]

SOLUTIONS = {"langevin-step": (reference_langevin_step, MISTAKES)}
