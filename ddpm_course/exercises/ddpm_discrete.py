"""Checkers for the exercises of the chapter "DDPM in discrete steps".

``ddpm-ex-ancestral-step``: the student writes ``ancestral_step(x, eps_hat, z, i, schedule)``
returning one step of DDPM's ancestral sampler with the posterior variance,

    x_{i−1} = (x_i − β_i / √(1 − ᾱ_i) · ε̂) / √α_i + √β̃_i z,
    β̃_i = (1 − ᾱ_{i−1}) / (1 − ᾱ_i) · β_i,

with ``β_i = schedule.betas[i]``, ``ᾱ_i = schedule.alpha_bars[i]`` (the arrays of a
:class:`ddpm_lib.Schedule` are indexed by the step number), ``eps_hat`` the noise prediction
at ``x_i`` and ``z`` the noise. The checker runs the answer with ``z = 0`` and with ``z``, so it
can tell a wrong mean from a wrong noise scale, and names the usual mistakes: the sign of the
ε̂ term, ``ᾱ_{i−1}`` in place of ``ᾱ_i`` (an off-by-one index), ``1 − ᾱ_i`` without its square
root, a missing or multiplying ``√α_i``, the clean-image estimate ``x̂_0`` returned instead of
``x_{i−1}``; and for the noise ``β_i`` in place of ``β̃_i``, the variance ``β̃_i`` in place of the
standard deviation ``√β̃_i``, ``β̃_{i±1}``, and no noise.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ddpm_lib.schedules import Schedule, linear_schedule
from . import Feedback, register
from ._common import as_output, close, name_the_mistake, name_the_noise_mistake

__all__ = ["check_ancestral_step", "reference_ancestral_step", "EXERCISE_ANCESTRAL_STEP"]

EXERCISE_ANCESTRAL_STEP = "ddpm-ex-ancestral-step"


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


MEAN_MISTAKES: list[tuple[str, Callable, str]] = [
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


NOISE_MISTAKES: list[tuple[str, Callable[[Schedule, int], float | None], str]] = [
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


def _cases() -> tuple[Schedule, list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]]]:
    """A coarse schedule (large, unequal β) and points where every mistake changes the answer visibly."""
    schedule = linear_schedule(12, beta_start=0.02, beta_end=0.35)
    gen = torch.Generator().manual_seed(2025)
    cases = []
    for i in (2, 5, 11, 12, 1):
        x = 1.5 * torch.randn(6, 2, generator=gen, dtype=torch.float64)
        e = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        z = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        cases.append((x, e, z, i))
    return schedule, cases


_NAME = "x_{i−1}"
_NAN_HINT = "a division by 1 − ᾱ_0 = 0, or the square root of a negative number?"


@register(EXERCISE_ANCESTRAL_STEP)
def check_ancestral_step(answer: Callable[..., torch.Tensor]) -> Feedback:
    """Check ``ancestral_step(x, eps_hat, z, i, schedule)`` and name the mistake when it is wrong."""
    ex = EXERCISE_ANCESTRAL_STEP
    schedule, cases = _cases()
    wrong_mean, wrong_noise, crashed = [], [], []
    for x, e, z, i in cases:
        try:
            raw0 = answer(x.clone(), e.clone(), torch.zeros_like(z), i, schedule)
            raw1 = answer(x.clone(), e.clone(), z.clone(), i, schedule)
        except Exception as exc:  # noqa: BLE001 - a crash at one step is diagnosed from the others
            crashed.append((i, f"{type(exc).__name__}: {exc}"))
            continue
        out0, msg = as_output(raw0, x, _NAME, _NAN_HINT)
        if out0 is None:
            return Feedback(ex, False, msg)
        out1, msg = as_output(raw1, x, _NAME, _NAN_HINT)
        if out1 is None:
            return Feedback(ex, False, msg)
        if not close(out0, reference_ancestral_step(x, e, torch.zeros_like(z), i, schedule)):
            wrong_mean.append(((x, e, z, i), out0))
        diff = out1 - out0
        want = math.sqrt(float(schedule.posterior_variances[i]))
        if not close(diff, want * z):
            wrong_noise.append(((x, e, z, i), diff))
    if crashed and len(crashed) == len(cases):
        return Feedback(ex, False, f"your function raised {crashed[0][1]}")
    if not wrong_mean and not wrong_noise and not crashed:
        return Feedback(ex, True, "x_{i−1} = (x_i − β_i/√(1 − ᾱ_i) ε̂)/√α_i + √β̃_i z: the mean of the posterior with "
                                  "x_0 replaced by its estimate, and the posterior's own variance β̃_i.")
    hints = []
    if wrong_mean:
        hint = name_the_mistake(wrong_mean, MEAN_MISTAKES,
                                lambda make, case: make(case[0], case[1], case[3], schedule))
        if hint:
            hints.append(hint)
        else:
            steps = sorted(c[3] for c, _ in wrong_mean)
            hints.append(f"with z = 0 your answer is wrong at i = {steps} and matches none of the usual mistakes. "
                         "Check the mean (x_i − β_i/√(1 − ᾱ_i) ε̂)/√α_i with β_i = schedule.betas[i], "
                         "ᾱ_i = schedule.alpha_bars[i] and α_i = 1 − β_i.")
    if wrong_noise:
        hint = name_the_noise_mistake([(d, c[3], c[2]) for c, d in wrong_noise], NOISE_MISTAKES, schedule)
        if hint:
            hints.append(hint)
        else:
            hints.append("the noise term is not √β̃_i z with β̃_i = (1 − ᾱ_{i−1})/(1 − ᾱ_i) · β_i (check the indices, the "
                         "square root, and that the noise is added to the mean).")
    if crashed:
        steps = [i for i, _ in crashed]
        note = (f"your function raised {crashed[0][1]} at i = {steps}"
                + (" (ᾱ_0 = 1, so 1 − ᾱ_0 = 0: is an index off by one?)" if 1 in steps else "") + ".")
        hints.insert(0, note)
    return Feedback(ex, False, " Also: ".join(hints))
