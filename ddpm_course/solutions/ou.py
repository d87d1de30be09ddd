"""Solution of ``ou-ex-vp-forward`` (chapter *The OU forward process*) and the usual mistakes."""
from __future__ import annotations

from typing import Callable

import torch

__all__ = ["reference_vp_forward", "VP_FORWARD_MISTAKES", "SOLUTIONS"]


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


def _wrap_around(x0, i, eps, b):
    """``cumprod(1 − β)[i − 1]``: right for i ≥ 1, the last ᾱ at i = 0."""
    return _from_ab(torch.cumprod(1 - b, 0)[i - 1], x0, eps)


VP_FORWARD_MISTAKES: list[tuple[str, Callable[..., torch.Tensor | None], str]] = [
    ("wrap-around at i = 0", _wrap_around,
     "every i ≥ 1 is right, but at i = 0 the answer must be x0 itself: ᾱ_0 = 1 (the empty product), not a "
     "wrap-around like cumprod(...)[i − 1]."),
    ("off-by-one, one step short",
     lambda x0, i, eps, b: _from_ab(_ab(b, i - 1), x0, eps),
     "off-by-one index: you used ᾱ_{i−1} (one factor short). ᾱ_i = (1−β_1)⋯(1−β_i) has i factors, and betas "
     "holds β_1..β_n."),
    ("off-by-one, one step too many",
     lambda x0, i, eps, b: _from_ab(_ab(b, i + 1), x0, eps),
     "off-by-one index: you used ᾱ_{i+1} (one factor too many, e.g. betas[:i+1] or starting the product at "
     "index 0 of a list that already starts at β_1). ᾱ_i has exactly i factors."),
    ("no square roots",
     lambda x0, i, eps, b: _ab(b, i) * x0 + (1 - _ab(b, i)) * eps,
     "missing square roots: ᾱ_i and 1 − ᾱ_i are the squared coefficients (a variance, like β in place of √β)."),
    ("variance instead of standard deviation for the noise",
     lambda x0, i, eps, b: _ab(b, i).sqrt() * x0 + (1 - _ab(b, i)) * eps,
     "the noise is scaled by 1 − ᾱ_i, a variance (like β in place of √β): ε needs a standard deviation."),
    ("no square root on the signal",
     lambda x0, i, eps, b: _ab(b, i) * x0 + (1 - _ab(b, i)).sqrt() * eps,
     "the signal is scaled by ᾱ_i: the mean of x_i is not ᾱ_i x0 (ᾱ_i is the squared scale)."),
    ("sign error in the noise",
     lambda x0, i, eps, b: _ab(b, i).sqrt() * x0 - (1 - _ab(b, i)).sqrt() * eps,
     "sign error: the noise enters with a plus sign."),
    ("sign error in alpha",
     lambda x0, i, eps, b: torch.prod(1 + b[:i]).sqrt() * x0 + (torch.prod(1 + b[:i]) - 1).abs().sqrt() * eps,
     "sign error: α_j = 1 − β_j, not 1 + β_j (with 1 + β_j the signal would grow, not shrink)."),
    ("product of betas",
     lambda x0, i, eps, b: _from_ab(torch.prod(b[:i]), x0, eps),
     "you multiplied the β_j; ᾱ_i multiplies α_j = 1 − β_j."),
    ("only the last step",
     lambda x0, i, eps, b: None if i < 1 else (1 - b[i - 1]).sqrt() * x0 + b[i - 1].sqrt() * eps,
     "you applied only the single step i (√(1 − β_i) x0 + √β_i ε); x_i | x0 accumulates all i steps."),
    ("exponential approximation",
     lambda x0, i, eps, b: torch.exp(-b[:i].sum() / 2) * x0 + (1 - torch.exp(-b[:i].sum())).sqrt() * eps,
     "you used the OU approximation ᾱ_i ≈ e^{−t_i} with t_i = β_1 + ⋯ + β_i; the exercise asks for the exact "
     "product ᾱ_i = (1−β_1)⋯(1−β_i)."),
]

SOLUTIONS = {"ou-ex-vp-forward": (reference_vp_forward, VP_FORWARD_MISTAKES)}
