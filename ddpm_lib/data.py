"""Training data sets for the small models; nothing is ever downloaded.

``make_dataset(name, n, generator)`` returns a float32 tensor:

* ``"mixture"`` (alias ``"ring"``) — ``n`` draws from :func:`ddpm_lib.mixtures.ring_mixture`
  (8 modes, radius 3, std 0.3), **not** rescaled, so its exact score is the mixture's own;
* ``"separated"`` — ``n`` draws from :func:`ddpm_lib.mixtures.separated_mixture`, not rescaled;
* ``"moons"`` — two interleaving half circles (noise 0.1), centred and scaled by one factor
  (the aspect ratio is kept) so that the mean per-coordinate variance is 1;
* ``"swiss_roll"`` — the 2-D swiss roll ``(t cos t, t sin t)``, ``t ∈ [1.5π, 4.5π]`` (noise 0.5),
  centred and scaled the same way;
* ``"digits"`` — the 8×8 handwritten digits bundled with scikit-learn (1,797 images),
  scaled from ``0..16`` to ``[−1, 1]``, shape ``(n, 1, 8, 8)``; ``n=None`` gives all of them,
  a smaller ``n`` a random subset without replacement.

The 2-D sets have shape ``(n, 2)``. The standardising constants are fixed (computed once from
2·10⁶ draws), not estimated from the sample, so every ``n`` gives the same distribution.
"""
from __future__ import annotations

import math

import torch

from .validation import check_positive_int

__all__ = ["make_dataset", "DATASETS", "DIGITS_COUNT"]

DATASETS = ("mixture", "ring", "separated", "moons", "swiss_roll", "digits")
DIGITS_COUNT = 1797

# fixed affine maps (centre, isotropic scale) so that mean per-coordinate variance ≈ 1
_MOONS_CENTRE = (0.5, 0.25)
_MOONS_SCALE = math.sqrt((0.8717 ** 2 + 0.5041 ** 2) / 2)
_SWISS_CENTRE = (2.0, 0.2)
_SWISS_SCALE = math.sqrt((6.642 ** 2 + 6.968 ** 2) / 2)


def _moons(n: int, g: torch.Generator | None, noise: float = 0.1) -> torch.Tensor:
    """Two interleaving half circles, standardised, ``(n, 2)`` float64."""
    t = torch.rand(n, generator=g, dtype=torch.float64) * math.pi
    upper = torch.rand(n, generator=g, dtype=torch.float64) < 0.5
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    pts = torch.stack([x, y], dim=1) + noise * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return (pts - torch.tensor(_MOONS_CENTRE, dtype=torch.float64)) / _MOONS_SCALE


def _swiss_roll(n: int, g: torch.Generator | None, noise: float = 0.5) -> torch.Tensor:
    """The 2-D swiss roll, standardised, ``(n, 2)`` float64."""
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=g, dtype=torch.float64))
    pts = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1)
    pts = pts + noise * torch.randn(n, 2, generator=g, dtype=torch.float64)
    return (pts - torch.tensor(_SWISS_CENTRE, dtype=torch.float64)) / _SWISS_SCALE


def _digits(n: int | None, g: torch.Generator | None) -> torch.Tensor:
    """The scikit-learn 8×8 digits scaled to [−1, 1], ``(n, 1, 8, 8)`` float64."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency of the book
        raise ImportError("the 'digits' data set needs scikit-learn (pip install scikit-learn); "
                          "it ships the images, nothing is downloaded") from exc
    images = torch.as_tensor(load_digits().images, dtype=torch.float64)  # (1797, 8, 8), values 0..16
    x = (images / 8.0 - 1.0)[:, None]
    if n is None:
        return x
    if n > x.shape[0]:
        raise ValueError(f"the digits data set has {x.shape[0]} images; asked for n={n} "
                         f"(use n=None for all of them)")
    return x[torch.randperm(x.shape[0], generator=g)[:n]]


def make_dataset(name: str, n: int | None, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``n`` training points of data set ``name``: ``(n, 2)`` for the 2-D sets, ``(n, 1, 8, 8)`` for digits."""
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    if n is None and name != "digits":
        raise ValueError(f"data set {name!r} needs a number of points n >= 1 (only 'digits' accepts n=None)")
    if n is not None:
        n = check_positive_int(n, "n")
    if name in ("mixture", "ring", "separated"):
        from . import mixtures

        gm = mixtures.ring_mixture() if name in ("mixture", "ring") else mixtures.separated_mixture()
        x = gm.sample(n, generator=generator)
    elif name == "moons":
        x = _moons(n, generator)
    elif name == "swiss_roll":
        x = _swiss_roll(n, generator)
    else:
        x = _digits(n, generator)
    return x.to(dtype).contiguous()


def dataset_mixture(name: str):
    """The exact :class:`~ddpm_lib.mixtures.GaussianMixture` behind ``name`` ('mixture', 'ring', 'separated'), else None."""
    if name in ("mixture", "ring", "separated"):
        from . import mixtures

        return mixtures.ring_mixture() if name in ("mixture", "ring") else mixtures.separated_mixture()
    return None
