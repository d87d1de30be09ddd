"""Checkers for the exercises of the chapter "Denoising score matching and training".

``dsm-ex-tweedie``: the student writes ``tweedie_denoise(x_i, score, alpha_bar)`` returning
Tweedie's posterior mean ``E[x_0 | x_i] = (x_i + (1 − ᾱ) s) / √ᾱ``, where ``x_i`` is a
``(batch, d)`` tensor, ``score`` the values ``s_i(x_i)`` (same shape) and ``alpha_bar`` a 0-d
tensor ``ᾱ_i``. The checker runs the answer on cases with known results (including a Gaussian
target, for which the posterior mean is known independently) and, when it is wrong, compares it
with the usual mistakes to name the one that was made.
"""
from __future__ import annotations

from typing import Callable

import torch

from . import Feedback, register
from ._common import as_output, close

__all__ = ["check_tweedie", "reference_tweedie", "TWEEDIE_MISTAKES"]

EXERCISE_TWEEDIE = "dsm-ex-tweedie"


def reference_tweedie(x_i: torch.Tensor, score: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """The reference answer: ``(x_i + (1 − ᾱ) score) / √ᾱ``."""
    return (x_i + (1 - alpha_bar) * score) / torch.sqrt(alpha_bar)


# Each plausible mistake: (short name, what the student computed, hint naming the mistake).
TWEEDIE_MISTAKES: list[tuple[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], str]] = [
    ("sign error",
     lambda x, s, a: (x - (1 - a) * s) / a.sqrt(),
     "sign error: the score is added, E[x_0 | x_i] = (x_i + (1 − ᾱ) s) / √ᾱ. The score points towards higher "
     "density, and the denoiser moves the point that way."),
    ("divides by abar",
     lambda x, s, a: (x + (1 - a) * s) / a,
     "you divided by ᾱ; the mean of x_i given x_0 is √ᾱ x_0, so undo the signal scale with √ᾱ."),
    ("sqrt(1 - abar) factor",
     lambda x, s, a: (x + (1 - a).sqrt() * s) / a.sqrt(),
     "the score is multiplied by √(1 − ᾱ), a standard deviation; Tweedie's formula multiplies it by the noise "
     "variance 1 − ᾱ."),
    ("score taken for the noise",
     lambda x, s, a: (x - (1 - a).sqrt() * s) / a.sqrt(),
     "you used the ε-form (x_i − √(1 − ᾱ) ε) / √ᾱ with the score in place of ε. The argument is the score "
     "s = −ε / √(1 − ᾱ): in terms of the score it is (x_i + (1 − ᾱ) s) / √ᾱ."),
    ("no division",
     lambda x, s, a: x + (1 - a) * s,
     "you forgot to divide by √ᾱ: x_i + (1 − ᾱ) s estimates √ᾱ x_0, the signal part of x_i, not x_0 itself."),
    ("multiplies by sqrt(abar)",
     lambda x, s, a: a.sqrt() * (x + (1 - a) * s),
     "you multiplied by √ᾱ; divide by it: x_i ≈ √ᾱ x_0 + noise, so x_0 ≈ (x_i + (1 − ᾱ) s) / √ᾱ."),
    ("divides only the score term",
     lambda x, s, a: x + (1 - a) * s / a.sqrt(),
     "only the score term is divided by √ᾱ; the whole bracket is: (x_i + (1 − ᾱ) s) / √ᾱ."),
    ("divides only x_i",
     lambda x, s, a: x / a.sqrt() + (1 - a) * s,
     "only x_i is divided by √ᾱ; the whole bracket is: (x_i + (1 − ᾱ) s) / √ᾱ."),
    ("abar and 1 - abar swapped",
     lambda x, s, a: (x + a * s) / (1 - a).sqrt(),
     "ᾱ and 1 − ᾱ are swapped: the noise variance 1 − ᾱ multiplies the score and the signal scale √ᾱ divides."),
    ("abar in place of 1 - abar",
     lambda x, s, a: (x + a * s) / a.sqrt(),
     "the score is multiplied by ᾱ; it should be the noise variance 1 − ᾱ."),
]


def _cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Unequal ᾱ and random points and scores, so that every mistake changes the answer visibly."""
    gen = torch.Generator().manual_seed(2024)
    cases = []
    for ab, d in ((0.9, 2), (0.5, 3), (0.12, 2), (0.98, 1)):
        x = torch.randn(6, d, generator=gen, dtype=torch.float64) * 1.5
        s = torch.randn(6, d, generator=gen, dtype=torch.float64) * 2.0
        cases.append((x, s, torch.tensor(ab, dtype=torch.float64)))
    return cases


def _gaussian_case() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """p_0 = N(m, σ² I): the posterior mean by Gaussian conditioning, and the exact score of p_i."""
    gen = torch.Generator().manual_seed(7)
    ab, m, var = torch.tensor(0.3, dtype=torch.float64), torch.tensor([1.0, -2.0], dtype=torch.float64), 0.5
    x = torch.randn(8, 2, generator=gen, dtype=torch.float64) + ab.sqrt() * m
    v = ab * var + 1 - ab
    score = -(x - ab.sqrt() * m) / v
    posterior_mean = m + ab.sqrt() * var / v * (x - ab.sqrt() * m)
    return x, score, ab, posterior_mean


_NAME = "E[x_0 | x_i]"
_NAN_HINT = "a square root of a negative number, or a division by 0?"


@register(EXERCISE_TWEEDIE)
def check_tweedie(answer: Callable[..., torch.Tensor]) -> Feedback:
    """Check ``tweedie_denoise(x_i, score, alpha_bar)`` and name the mistake when it is wrong."""
    ex = EXERCISE_TWEEDIE
    failures = []  # (case, student output)
    for x, s, ab in _cases():
        x_copy, s_copy = x.clone(), s.clone()
        out = answer(x_copy, s_copy, ab.clone())
        if not (torch.equal(x_copy, x) and torch.equal(s_copy, s)):
            return Feedback(ex, False, "your function changed x_i or score in place; compute a new tensor instead.")
        out, problem = as_output(out, x, _NAME, _NAN_HINT)
        if out is None:
            return Feedback(ex, False, problem)
        if not close(out, reference_tweedie(x, s, ab)):
            failures.append(((x, s, ab), out))
    if not failures:
        x, s, ab, post = _gaussian_case()
        out, problem = as_output(answer(x.clone(), s.clone(), ab.clone()), x, _NAME, _NAN_HINT)
        if out is None:
            return Feedback(ex, False, problem)
        if not close(out, post):  # pragma: no cover - agrees with the reference on the cases above
            return Feedback(ex, False, "right on the first cases but not on a Gaussian target; check the formula.")
        return Feedback(ex, True, "E[x_0 | x_i] = (x_i + (1 − ᾱ) s) / √ᾱ; for a Gaussian target it matches the "
                                  "posterior mean from Gaussian conditioning.")
    for _, make, hint in TWEEDIE_MISTAKES:
        if all(close(out, make(*case)) for case, out in failures):
            return Feedback(ex, False, hint)
    return Feedback(ex, False, f"the answer is wrong on {len(failures)} of {len(_cases())} cases and matches none of "
                               "the usual mistakes. Check it against E[x_0 | x_i] = (x_i + (1 − ᾱ) s) / √ᾱ.")
