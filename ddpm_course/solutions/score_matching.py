"""Solution of ``dsm-ex-tweedie`` (chapter *Denoising score matching and training*) and the usual mistakes."""
from __future__ import annotations

from typing import Callable

import torch

__all__ = ["reference_tweedie", "TWEEDIE_MISTAKES", "SOLUTIONS"]


def reference_tweedie(x_i: torch.Tensor, score: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """The reference answer: ``(x_i + (1 − ᾱ) score) / √ᾱ``."""
    return (x_i + (1 - alpha_bar) * score) / torch.sqrt(alpha_bar)


TWEEDIE_MISTAKES: list[tuple[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], str]] = [
    ("sign error", lambda x, s, a: (x - (1 - a) * s) / a.sqrt(),
     "sign error: the score term is added. The score points towards higher density, and the denoiser moves the "
     "point that way."),
    ("divides by abar", lambda x, s, a: (x + (1 - a) * s) / a,
     "you divided by ᾱ; the mean of x_i given x_0 is √ᾱ x_0, so undo the signal scale accordingly."),
    ("sqrt(1 - abar) factor", lambda x, s, a: (x + (1 - a).sqrt() * s) / a.sqrt(),
     "the score is multiplied by √(1 − ᾱ), a standard deviation; Tweedie's formula multiplies it by a variance."),
    ("score taken for the noise", lambda x, s, a: (x - (1 - a).sqrt() * s) / a.sqrt(),
     "you used the ε-form (x_i − √(1 − ᾱ) ε) / √ᾱ with the score in place of ε. The argument is the score "
     "s = −ε / √(1 − ᾱ): rewrite the formula in terms of it."),
    ("no division", lambda x, s, a: x + (1 - a) * s,
     "you forgot to undo the signal scale: x_i + (1 − ᾱ) s estimates √ᾱ x_0, not x_0 itself."),
    ("multiplies by sqrt(abar)", lambda x, s, a: a.sqrt() * (x + (1 - a) * s),
     "you multiplied by √ᾱ; x_i ≈ √ᾱ x_0 + noise, so the signal scale is undone by dividing."),
    ("divides only the score term", lambda x, s, a: x + (1 - a) * s / a.sqrt(),
     "only the score term is divided by √ᾱ; the whole bracket is."),
    ("divides only x_i", lambda x, s, a: x / a.sqrt() + (1 - a) * s,
     "only x_i is divided by √ᾱ; the whole bracket is."),
    ("abar and 1 - abar swapped", lambda x, s, a: (x + a * s) / (1 - a).sqrt(),
     "ᾱ and 1 − ᾱ are swapped: the noise variance multiplies the score and the signal scale divides."),
    ("abar in place of 1 - abar", lambda x, s, a: (x + a * s) / a.sqrt(),
     "the score is multiplied by ᾱ; it should be the noise variance."),
]

SOLUTIONS = {"dsm-ex-tweedie": (reference_tweedie, TWEEDIE_MISTAKES)}
