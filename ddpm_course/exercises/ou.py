"""Checkers for the exercises of the chapter "The Ornstein–Uhlenbeck forward process".

``ou-ex-vp-forward``: the student writes ``vp_forward(x0, i, eps, betas)`` returning
``x_i = √ᾱ_i x0 + √(1 − ᾱ_i) eps`` with ``ᾱ_i = (1 − β_1)⋯(1 − β_i)``, where ``betas`` is
a 1-D tensor holding ``β_1..β_n`` (so ``β_j = betas[j − 1]``) and ``i ∈ {0, …, n}``.
The checker runs the answer on cases with known results and, when it is wrong, compares
it with the usual mistakes to name the one that was made.
"""
from __future__ import annotations

from typing import Callable

import torch

from . import Feedback, register
from ._common import close, name_the_mistake

__all__ = ["check_vp_forward", "reference_vp_forward", "VP_FORWARD_MISTAKES"]

EXERCISE_VP_FORWARD = "ou-ex-vp-forward"


def reference_vp_forward(x0: torch.Tensor, i: int, eps: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """The reference answer: ``√ᾱ_i x0 + √(1 − ᾱ_i) eps`` (``ᾱ_0 = 1``, the empty product)."""
    alpha_bar = torch.prod(1 - betas[:i])
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps


def _ab(betas: torch.Tensor, k: int) -> torch.Tensor | None:
    """``ᾱ_k`` for ``0 ≤ k ≤ n``, else ``None`` (the mistake is not defined there)."""
    if k < 0 or k > betas.numel():
        return None
    return torch.prod(1 - betas[:k])


def _from_ab(ab: torch.Tensor | None, x0: torch.Tensor, eps: torch.Tensor) -> torch.Tensor | None:
    return None if ab is None else ab.sqrt() * x0 + (1 - ab).sqrt() * eps


# Each plausible mistake: (what the student computed, hint naming the mistake).
VP_FORWARD_MISTAKES: list[tuple[str, Callable[..., torch.Tensor | None], str]] = [
    ("off-by-one, one step short",
     lambda x0, i, eps, b: _from_ab(_ab(b, i - 1), x0, eps),
     "off-by-one index: you used ᾱ_{i−1} (one factor short). ᾱ_i = (1−β_1)⋯(1−β_i) has i factors; "
     "with betas holding β_1..β_n that is torch.prod(1 − betas[:i])."),
    ("off-by-one, one step too many",
     lambda x0, i, eps, b: _from_ab(_ab(b, i + 1), x0, eps),
     "off-by-one index: you used ᾱ_{i+1} (one factor too many, e.g. betas[:i+1] or starting the product at "
     "index 0 of a list that already starts at β_1). ᾱ_i has exactly i factors: torch.prod(1 − betas[:i])."),
    ("no square roots",
     lambda x0, i, eps, b: _ab(b, i) * x0 + (1 - _ab(b, i)) * eps,
     "missing square roots: you wrote ᾱ_i x0 + (1 − ᾱ_i) ε, but ᾱ_i and 1 − ᾱ_i are the squared coefficients "
     "(a variance, like β in place of √β). Use √ᾱ_i x0 + √(1 − ᾱ_i) ε."),
    ("variance instead of standard deviation for the noise",
     lambda x0, i, eps, b: _ab(b, i).sqrt() * x0 + (1 - _ab(b, i)) * eps,
     "the noise is scaled by 1 − ᾱ_i, a variance (like β in place of √β): multiply ε by its square root "
     "√(1 − ᾱ_i)."),
    ("no square root on the signal",
     lambda x0, i, eps, b: _ab(b, i) * x0 + (1 - _ab(b, i)).sqrt() * eps,
     "the signal is scaled by ᾱ_i: the mean of x_i is √ᾱ_i x0, so take the square root."),
    ("sign error in the noise",
     lambda x0, i, eps, b: _ab(b, i).sqrt() * x0 - (1 - _ab(b, i)).sqrt() * eps,
     "sign error: the noise enters with a plus sign, x_i = √ᾱ_i x0 + √(1 − ᾱ_i) ε."),
    ("sign error in alpha",
     lambda x0, i, eps, b: torch.prod(1 + b[:i]).sqrt() * x0 + (torch.prod(1 + b[:i]) - 1).abs().sqrt() * eps,
     "sign error: α_j = 1 − β_j, not 1 + β_j (with 1 + β_j the signal would grow, not shrink)."),
    ("product of betas",
     lambda x0, i, eps, b: _from_ab(torch.prod(b[:i]), x0, eps),
     "you multiplied the β_j; ᾱ_i multiplies α_j = 1 − β_j."),
    ("only the last step",
     lambda x0, i, eps, b: None if i < 1 else (1 - b[i - 1]).sqrt() * x0 + b[i - 1].sqrt() * eps,
     "you applied only the single step i (√(1 − β_i) x0 + √β_i ε); x_i | x0 accumulates all i steps "
     "through ᾱ_i = (1−β_1)⋯(1−β_i)."),
    ("exponential approximation",
     lambda x0, i, eps, b: torch.exp(-b[:i].sum() / 2) * x0 + (1 - torch.exp(-b[:i].sum())).sqrt() * eps,
     "you used the OU approximation ᾱ_i ≈ e^{−t_i} with t_i = β_1 + ⋯ + β_i; the exercise asks for the exact "
     "product ᾱ_i = (1−β_1)⋯(1−β_i)."),
]


def _cases() -> list[tuple[torch.Tensor, int, torch.Tensor, torch.Tensor]]:
    """Cases with large, unequal β so that every mistake changes the answer visibly."""
    gen = torch.Generator().manual_seed(1234)
    betas = torch.tensor([0.05, 0.3, 0.12, 0.4, 0.2, 0.25], dtype=torch.float64)
    x0 = torch.randn(5, 2, generator=gen, dtype=torch.float64) + 1.5
    eps = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    return [(x0, i, eps, betas) for i in (1, 2, 4, 6, 0)]


@register(EXERCISE_VP_FORWARD)
def check_vp_forward(answer: Callable[..., torch.Tensor]) -> Feedback:
    """Check ``vp_forward(x0, i, eps, betas)`` and name the mistake when it is wrong."""
    ex = EXERCISE_VP_FORWARD
    failures = []  # (case, student output)
    for x0, i, eps, betas in _cases():
        b_copy, x_copy = betas.clone(), x0.clone()
        out = answer(x0.clone(), i, eps.clone(), b_copy)
        if isinstance(out, tuple):
            return Feedback(ex, False, "return only the tensor x_i, not a tuple (q_sample returns (x_i, ε); "
                                       "this exercise does not).")
        if not torch.equal(b_copy, betas):
            return Feedback(ex, False, "your function changed the betas tensor in place; work on a copy.")
        try:
            out = torch.as_tensor(out, dtype=torch.float64)
        except Exception:  # noqa: BLE001 - anything not tensor-like is a wrong answer
            return Feedback(ex, False, f"return a tensor shaped like x0, got {type(out).__name__}.")
        if out.shape != x0.shape:
            return Feedback(ex, False, f"x_i must have the shape of x0, {tuple(x0.shape)}; got {tuple(out.shape)}.")
        if not bool(torch.isfinite(out).all()):
            return Feedback(ex, False, f"your answer has NaN or infinite entries at i = {i}: a square root of a "
                                       "negative number? α_j = 1 − β_j lies in (0, 1), so 1 − ᾱ_i ≥ 0.")
        expected = reference_vp_forward(x_copy, i, eps, betas)
        if not close(out, expected):
            failures.append(((x_copy, i, eps, betas), out))
    if not failures:
        return Feedback(ex, True, "x_i = √ᾱ_i x0 + √(1 − ᾱ_i) ε with ᾱ_i the product of the first i factors "
                                  "1 − β_j, and ᾱ_0 = 1 at i = 0.")
    failed_steps = sorted(case[1] for case, _ in failures)
    if failed_steps == [0]:
        return Feedback(ex, False, "every i ≥ 1 is right, but at i = 0 the answer must be x0 itself: ᾱ_0 = 1 "
                                   "(the empty product), not a wrap-around like cumprod(...)[i − 1].")
    hint = name_the_mistake(failures, VP_FORWARD_MISTAKES, lambda make, case: make(*case))
    if hint:
        return Feedback(ex, False, hint)
    return Feedback(ex, False, f"the answer is wrong at i = {failed_steps} and matches none of the usual mistakes. "
                               "Check it against the closed form x_i = √ᾱ_i x0 + √(1 − ᾱ_i) ε, "
                               "ᾱ_i = (1−β_1)⋯(1−β_i), ᾱ_0 = 1.")
