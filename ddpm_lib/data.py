"""Training data sets for the small models; nothing is ever downloaded.

``make_dataset(name, n, generator)`` returns a float32 tensor:

* ``"mixture"`` (alias ``"ring"``) — ``n`` draws from :func:`ddpm_lib.mixtures.ring_mixture`
  (8 modes, radius 3, std 0.3), **not** rescaled, so its exact score is the mixture's own;
* ``"separated"`` — ``n`` draws from :func:`ddpm_lib.mixtures.separated_mixture`, not rescaled;
* ``"moons"`` — scikit-learn's ``make_moons`` (two interleaving half circles, noise 0.1), centred
  and scaled by one factor (the aspect ratio is kept) so that the mean per-coordinate variance is 1;
* ``"swiss_roll"`` — the 2-D swiss roll ``(t cos t, t sin t)``, ``t ∈ [1.5π, 4.5π]`` (noise 0.5):
  the first and third coordinates of scikit-learn's ``make_swiss_roll``, centred and scaled the same way;
* ``"digits"`` — the 8×8 handwritten digits bundled with scikit-learn (1,797 images),
  scaled from ``0..16`` to ``[−1, 1]``, shape ``(n, 1, 8, 8)``; ``n=None`` gives all of them,
  a smaller ``n`` a random subset without replacement.

The 2-D sets have shape ``(n, 2)``. The standardising constants are fixed (computed once from
2·10⁶ draws), not estimated from the sample, so every ``n`` gives the same distribution. The
scikit-learn sets take their ``random_state`` from one draw of ``generator``, so a seeded generator
gives the same points every time.
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


def _random_state(g: torch.Generator | None) -> int:
    """A NumPy ``random_state`` for scikit-learn, drawn from ``g`` (the global torch RNG when None)."""
    return int(torch.randint(0, 2 ** 31 - 1, (), generator=g))


def _moons(n: int, g: torch.Generator | None, noise: float = 0.1) -> torch.Tensor:
    """Two interleaving half circles (``sklearn.datasets.make_moons``), standardised, ``(n, 2)`` float64."""
    from sklearn.datasets import make_moons

    pts, _ = make_moons(n, noise=noise, random_state=_random_state(g))
    return (torch.as_tensor(pts, dtype=torch.float64) - torch.tensor(_MOONS_CENTRE, dtype=torch.float64)) / _MOONS_SCALE


def _swiss_roll(n: int, g: torch.Generator | None, noise: float = 0.5) -> torch.Tensor:
    """The 2-D swiss roll (``sklearn.datasets.make_swiss_roll``'s coordinates 1 and 3), standardised, ``(n, 2)`` float64."""
    from sklearn.datasets import make_swiss_roll

    pts, _ = make_swiss_roll(n, noise=noise, random_state=_random_state(g))
    return (torch.as_tensor(pts[:, [0, 2]], dtype=torch.float64)
            - torch.tensor(_SWISS_CENTRE, dtype=torch.float64)) / _SWISS_SCALE


def _digits(n: int | None, g: torch.Generator | None) -> torch.Tensor:
    """The scikit-learn 8×8 digits scaled to [−1, 1], ``(n, 1, 8, 8)`` float64 (shipped, not downloaded)."""
    from sklearn.datasets import load_digits

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
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating point torch.dtype, got {dtype!r}")
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
