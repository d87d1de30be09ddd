"""Solution of ``ddpm-ex-ancestral-step`` (chapter *The discrete DDPM*) and the usual mistakes.

Mistakes of the mean come with the right noise and vice versa, so that the judge can name a
wrong mean and a wrong noise scale separately.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ddpm_lib.schedules import Schedule

__all__ = ["reference_ancestral_step", "MISTAKES", "SOLUTIONS"]


def reference_ancestral_step(x: torch.Tensor, eps_hat: torch.Tensor, z: torch.Tensor, i: int,
                             schedule: Schedule) -> torch.Tensor:
    """The reference answer: ``(x − β_i/√(1−ᾱ_i) ε̂)/√α_i + √β̃_i z``."""
    beta = float(schedule.betas[i])
    ab = float(schedule.alpha_bars[i])
    ab_prev = float(schedule.alpha_bars[i - 1])
    beta_tilde = (1 - ab_prev) / (1 - ab) * beta
    return (x - beta / math.sqrt(1 - ab) * eps_hat) / math.sqrt(1 - beta) + math.sqrt(beta_tilde) * z


def _val(arr: torch.Tensor, k: int) -> float | None:
    return float(arr[k]) if 0 <= k < arr.numel() else None


def _mean(x, e, i, sc, *, sign=1.0, ab_index=None, beta_index=None, root=True, scale="divide"):
    """The deterministic part of a (possibly wrong) update; ``None`` when an index is out of range."""
    beta = _val(sc.betas, i if beta_index is None else beta_index)
    ab = _val(sc.alpha_bars, i if ab_index is None else ab_index)
    if beta is None or ab is None or beta <= 0 or not 0 < ab < 1:
        return None
    coef = beta / (math.sqrt(1 - ab) if root else (1 - ab))
    inner = x - sign * coef * e
    if scale == "divide":
        return inner / math.sqrt(1 - beta)
    if scale == "multiply":
        return inner * math.sqrt(1 - beta)
    return inner


def _x0_hat(x, e, i, sc):
    ab = float(sc.alpha_bars[i])
    return (x - math.sqrt(1 - ab) * e) / math.sqrt(ab)


_MEANS: list[tuple[str, Callable, str]] = [
    ("sign of the eps term", lambda x, e, i, sc: _mean(x, e, i, sc, sign=-1.0),
     "sign error: the predicted noise is *subtracted*, x_i − β_i/√(1 − ᾱ_i) ε̂. Adding it pushes the point "
     "further into the noise instead of towards the data."),
    ("abar_{i-1} in the eps coefficient", lambda x, e, i, sc: _mean(x, e, i, sc, ab_index=i - 1),
     "off-by-one index: the coefficient of ε̂ uses √(1 − ᾱ_i) = √(1 − schedule.alpha_bars[i]), the noise level "
     "of the point x_i you hold, not ᾱ_{i−1}."),
    ("beta_{i-1} and abar_{i-1}", lambda x, e, i, sc: _mean(x, e, i, sc, ab_index=i - 1, beta_index=i - 1),
     "off-by-one index: you read β and ᾱ at i − 1 (a 0-based loop over the 1-based arrays?). Step i takes x_i to "
     "x_{i−1} and uses β_i = schedule.betas[i] and ᾱ_i = schedule.alpha_bars[i]."),
    ("beta_{i+1} and abar_{i+1}", lambda x, e, i, sc: _mean(x, e, i, sc, ab_index=i + 1, beta_index=i + 1),
     "off-by-one index: you read β and ᾱ at i + 1. Step i uses β_i = schedule.betas[i] and "
     "ᾱ_i = schedule.alpha_bars[i]; entry 0 of each array belongs to the clean data."),
    ("1 - abar without the square root", lambda x, e, i, sc: _mean(x, e, i, sc, root=False),
     "the coefficient of ε̂ is β_i / √(1 − ᾱ_i): the noise in x_i has standard deviation √(1 − ᾱ_i), so the "
     "square root belongs there."),
    ("no 1/sqrt(alpha)", lambda x, e, i, sc: _mean(x, e, i, sc, scale="none"),
     "you left out the factor 1/√α_i: the forward step shrank x_{i−1} by √α_i, so the mean divides by it."),
    ("multiply by sqrt(alpha)", lambda x, e, i, sc: _mean(x, e, i, sc, scale="multiply"),
     "you multiplied by √α_i; the reverse step undoes the forward shrinking x_i = √α_i x_{i−1} + …, so it "
     "divides by √α_i."),
    ("returned x0_hat", _x0_hat,
     "you returned the clean-image estimate x̂_0 = (x_i − √(1 − ᾱ_i) ε̂)/√ᾱ_i. One ancestral step goes only to "
     "x_{i−1}: (x_i − β_i/√(1 − ᾱ_i) ε̂)/√α_i."),
]


def _bt(sc: Schedule, k: int) -> float | None:
    return float(sc.posterior_variances[k]) if 1 <= k <= sc.n else None


_NOISES: list[tuple[str, Callable[[Schedule, int], float | None], str]] = [
    ("beta instead of beta_tilde", lambda sc, i: math.sqrt(float(sc.betas[i])),
     "you used σ_i² = β_i, the other natural choice; this exercise asks for σ_i² = β̃_i = "
     "(1 − ᾱ_{i−1})/(1 − ᾱ_i) · β_i, the variance of the posterior q(x_{i−1} | x_i, x_0)."),
    ("variance instead of std", lambda sc, i: _bt(sc, i),
     "you multiplied z by the variance β̃_i; multiply by the standard deviation √β̃_i."),
    ("beta_tilde_{i-1}", lambda sc, i: None if _bt(sc, i - 1) is None else math.sqrt(_bt(sc, i - 1)),
     "off-by-one index in the noise: you used β̃_{i−1}. Step i uses β̃_i = (1 − ᾱ_{i−1})/(1 − ᾱ_i) · β_i, "
     "schedule.posterior_variances[i]."),
    ("beta_tilde_{i+1}", lambda sc, i: None if _bt(sc, i + 1) is None else math.sqrt(_bt(sc, i + 1)),
     "off-by-one index in the noise: you used β̃_{i+1}. Step i uses β̃_i = schedule.posterior_variances[i]."),
    ("no noise", lambda sc, i: 0.0,
     "your update adds no noise: add √β̃_i z (at i = 1 this is 0 by itself, since β̃_1 = 0)."),
    ("minus the noise", lambda sc, i: -math.sqrt(_bt(sc, i)),
     "the noise enters with a minus sign. In law that is harmless, but the convention here is + √β̃_i z, and the "
     "checker passes the same z to compare outputs."),
]


def _with_mean(mean: Callable) -> Callable:
    def wrong(x, e, z, i, sc):
        m = mean(x, e, i, sc)
        return None if m is None else m + math.sqrt(float(sc.posterior_variances[i])) * z
    return wrong


def _with_noise(coef: Callable) -> Callable:
    def wrong(x, e, z, i, sc):
        k = coef(sc, i)
        return None if k is None else reference_ancestral_step(x, e, torch.zeros_like(z), i, sc) + k * z
    return wrong


MISTAKES = ([(name, _with_mean(m), hint) for name, m, hint in _MEANS]
            + [(name, _with_noise(k), hint) for name, k, hint in _NOISES])

SOLUTIONS = {"ddpm-ex-ancestral-step": (reference_ancestral_step, MISTAKES)}
