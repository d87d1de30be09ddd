"""Distances between samples: sliced Wasserstein, kernel MMD, and the noise floor they have.

A metric between two *finite* samples of the same law is not zero; :func:`noise_floor`
measures what it is for a given sample size, so that "the sampler recovers the target"
can be checked as "the distance is within a small factor of the noise floor".
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .validation import as_tensor, check_finite, check_positive_float, check_positive_int

__all__ = ["sliced_wasserstein", "mmd_rbf", "noise_floor", "frechet_distance"]

DEFAULT_SEED = 0


def _check_points(x: torch.Tensor, name: str) -> torch.Tensor:
    x = as_tensor(x, name)
    if x.dim() == 1:
        x = x[:, None]
    if x.dim() != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} must have shape (n, d) with n >= 1 points, got {tuple(x.shape)}")
    return check_finite(x, name)


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = _check_points(x, "x"), _check_points(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension d, got {x.shape[1]} and {y.shape[1]}")
    dtype = torch.promote_types(x.dtype, y.dtype)
    if x.device != y.device:
        raise ValueError(f"x and y must be on the same device, got {x.device} and {y.device}")
    return x.to(dtype), y.to(dtype)


def _directions(d: int, n_projections: int, generator: torch.Generator | None, dtype: torch.dtype,
                device: torch.device) -> torch.Tensor:
    gen = generator if generator is not None else torch.Generator().manual_seed(DEFAULT_SEED)
    theta = torch.randn((n_projections, d), generator=gen, dtype=torch.float64, device=gen.device)
    theta = theta / theta.norm(dim=1, keepdim=True).clamp_min(1e-300)
    return theta.to(device=device, dtype=dtype)


def _sort_rows_(a: torch.Tensor) -> torch.Tensor:
    """Sort each row of a fresh (owned) tensor in place and return it; on the CPU through NumPy's
    vectorised sort (several times faster than ``torch.sort`` there)."""
    if a.device.type == "cpu" and not a.requires_grad and a.is_contiguous():
        a.numpy().sort(axis=1)
        return a
    return torch.sort(a, dim=1).values


#: Projections are processed in blocks of at most this many projected values per sample
#: (``block × max(n, m)``, 4 MB in float64), so memory stays small whatever the sample size;
#: the sort dominates the time, and costs the same in blocks.
SWD_BLOCK_ENTRIES = 2 ** 19


def _merged_quantile_grid(n: int, m: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices ``ix``, ``iy`` and widths of the merged quantile breakpoints ``k/n`` and ``k/m`` (``n != m``)."""
    # piecewise-constant quantile functions: F⁻¹(u) = px[ceil(u n) − 1]; merge breakpoints k/n and k/m
    u = torch.cat([torch.arange(1, n + 1, dtype=torch.float64) / n, torch.arange(1, m + 1, dtype=torch.float64) / m])
    u = torch.unique(torch.clamp(u, max=1.0))  # sorted, ends at 1
    widths = torch.diff(u, prepend=u.new_zeros(1))
    mid = u - widths / 2
    ix = torch.clamp(torch.ceil(mid * n).long() - 1, 0, n - 1).to(device)
    iy = torch.clamp(torch.ceil(mid * m).long() - 1, 0, m - 1).to(device)
    return ix, iy, widths.to(device)


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, n_projections: int = 256,
                       generator: torch.Generator | None = None) -> float:
    """Sliced 1-Wasserstein distance: the mean over random unit directions of W1 between the projected samples.

    ``x (n, d)``, ``y (m, d)`` -> float. The directions come from ``generator`` (default: a fresh
    generator seeded with 0, so the value is deterministic). W1 on a line is computed exactly from
    the sorted projections; for ``n != m`` by integrating ``|F⁻¹(u) − G⁻¹(u)|`` over the merged
    quantile breakpoints. Directions are projected in blocks (:data:`SWD_BLOCK_ENTRIES`), so
    memory does not grow with ``n_projections × n``.
    """
    x, y = _check_pair(x, y)
    n_projections = check_positive_int(n_projections, "n_projections")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    theta = _directions(x.shape[1], n_projections, generator, x.dtype, x.device)
    n, m = x.shape[0], y.shape[0]
    grid = None if n == m else _merged_quantile_grid(n, m, x.device)
    block = max(1, SWD_BLOCK_ENTRIES // max(n, m))
    w1 = []  # (P,) W1 of each direction, block by block
    for start in range(0, n_projections, block):
        th = theta[start:start + block]
        px = _sort_rows_(th @ x.T)  # (B, n)
        py = _sort_rows_(th @ y.T)  # (B, m)
        if grid is None:
            w1.append(px.sub_(py).abs_().mean(1))
        else:
            ix, iy, widths = grid
            w1.append(((px[:, ix] - py[:, iy]).abs() * widths.to(x.dtype)).sum(1))
        del px, py
    return float(torch.cat(w1).mean())


def _median_bandwidth(x: torch.Tensor, y: torch.Tensor, max_points: int = 1000) -> float:
    pooled = torch.cat([x, y])
    if pooled.shape[0] > max_points:  # evenly spaced subset: deterministic
        idx = torch.linspace(0, pooled.shape[0] - 1, max_points, device=pooled.device).round().long()
        pooled = pooled[idx]
    dist = torch.cdist(pooled, pooled)
    iu = torch.triu_indices(pooled.shape[0], pooled.shape[0], offset=1, device=pooled.device)
    med = float(dist[iu[0], iu[1]].median()) if iu.shape[1] else 0.0
    return med if med > 0 else 1.0


def _kernel_sum(a: torch.Tensor, b: torch.Tensor, gamma: float, chunk: int) -> float:
    """``Σ_{i,j} exp(−γ |a_i − b_j|²)`` in row chunks (memory ``chunk × len(b)``)."""
    total = 0.0
    b_sq = (b * b).sum(1)
    for start in range(0, a.shape[0], chunk):
        ac = a[start:start + chunk]
        d2 = ((ac * ac).sum(1)[:, None] + b_sq[None, :]).addmm_(ac, b.T, alpha=-2).clamp_min_(0)
        total += float(torch.exp(d2.mul_(-gamma)).sum())
    return total


def mmd_rbf(x: torch.Tensor, y: torch.Tensor, bandwidth: float | None = None) -> float:
    """Unbiased estimate of MMD² with the Gaussian kernel ``exp(−|a − b|² / (2 bandwidth²))``; ``x (n, d)``, ``y (m, d)`` -> float.

    ``bandwidth=None`` takes the median pairwise distance of the pooled sample (on an evenly
    spaced subset of at most 1,000 points). The unbiased estimator drops the diagonal terms, so it
    can be slightly negative when the laws agree. Kernel sums are computed in chunks: 10,000 ×
    10,000 points take about 2 × 10⁶ entries of memory at a time. Needs ``n, m >= 2``.
    """
    x, y = _check_pair(x, y)
    n, m = x.shape[0], y.shape[0]
    if n < 2 or m < 2:
        raise ValueError(f"mmd_rbf needs at least 2 points in each sample, got {n} and {m}")
    bw = _median_bandwidth(x, y) if bandwidth is None else check_positive_float(bandwidth, "bandwidth")
    gamma = 1.0 / (2 * bw * bw)
    chunk = max(1, 2_000_000 // max(n, m))
    kxx = (_kernel_sum(x, x, gamma, chunk) - n) / (n * (n - 1))
    kyy = (_kernel_sum(y, y, gamma, chunk) - m) / (m * (m - 1))
    kxy = _kernel_sum(x, y, gamma, chunk) / (n * m)
    return kxx + kyy - 2 * kxy


def noise_floor(sample: Callable[[int, torch.Generator], torch.Tensor], n: int,
                metric: Callable[[torch.Tensor, torch.Tensor], float] = sliced_wasserstein, repeats: int = 5,
                generator: torch.Generator | None = None) -> tuple[float, float]:
    """``(mean, std)`` over ``repeats`` of ``metric`` between two independent draws ``sample(n, generator)`` of size ``n``.

    ``generator`` defaults to one seeded with 0 (deterministic); ``std`` uses ``repeats − 1``
    degrees of freedom (0 when ``repeats == 1``).
    """
    if not callable(sample) or not callable(metric):
        raise TypeError("sample and metric must be callables: sample(n, generator) -> (n, d), metric(x, y) -> float")
    n = check_positive_int(n, "n")
    repeats = check_positive_int(repeats, "repeats")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    gen = generator if generator is not None else torch.Generator().manual_seed(DEFAULT_SEED)
    values = [float(metric(sample(n, gen), sample(n, gen))) for _ in range(repeats)]
    mean = sum(values) / repeats
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (repeats - 1)) if repeats > 1 else 0.0
    return mean, std


def _psd_sqrt(a: torch.Tensor) -> torch.Tensor:
    w, v = torch.linalg.eigh((a + a.T) / 2)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def frechet_distance(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> float:
    """Fréchet (2-Wasserstein²) distance of ``N(mu1, cov1)`` and ``N(mu2, cov2)``: ``|mu1 − mu2|² + tr(cov1 + cov2 − 2 (cov1^½ cov2 cov1^½)^½)``.

    ``mu (d,)``, ``cov (d, d)`` symmetric positive semi-definite -> float (the FID formula). Computed in
    float64 through symmetric eigendecompositions, so it is ``>= 0`` up to rounding.
    """
    mu1, mu2 = as_tensor(mu1, "mu1").double(), as_tensor(mu2, "mu2").double()
    cov1, cov2 = as_tensor(cov1, "cov1").double(), as_tensor(cov2, "cov2").double()
    d = mu1.shape[0] if mu1.dim() == 1 else -1
    if d < 1 or mu2.shape != (d,) or cov1.shape != (d, d) or cov2.shape != (d, d):
        raise ValueError(f"need mu1, mu2 of shape (d,) and cov1, cov2 of shape (d, d); got {tuple(mu1.shape)}, "
                         f"{tuple(mu2.shape)}, {tuple(cov1.shape)}, {tuple(cov2.shape)}")
    for name, t in (("mu1", mu1), ("mu2", mu2), ("cov1", cov1), ("cov2", cov2)):
        check_finite(t, name)
    s1 = _psd_sqrt(cov1)
    cross = torch.linalg.eigvalsh(s1 @ cov2 @ s1).clamp_min(0).sqrt().sum()
    return float(((mu1 - mu2) ** 2).sum() + torch.trace(cov1) + torch.trace(cov2) - 2 * cross)
