"""Noise schedules of the discrete variance-preserving (VP) chain.

Indexing convention (the book's notation page): step ``i`` runs from 1 to ``n``;
every per-step array has length ``n + 1`` so that entry ``i`` *is* the quantity with
index ``i`` and entry 0 describes the clean data (no step taken yet):

* ``betas[i] = β_i`` with ``betas[0] = 0``;
* ``alphas[i] = α_i = 1 − β_i``;
* ``alpha_bars[i] = ᾱ_i = α_1 ⋯ α_i`` (``ᾱ_0 = 1``);
* ``times[i] = t_i = β_1 + ⋯ + β_i`` — the OU time reached after ``i`` steps when ``β``
  is read as a step size (in 0-based code over the ``n`` betas, ``t_i = Σ_{j<i} β_j``);
* ``posterior_variances[i] = β̃_i = (1 − ᾱ_{i−1}) / (1 − ᾱ_i) · β_i`` (``β̃_1 = 0``).
"""
from __future__ import annotations

import math
import torch

from .validation import as_tensor, check_positive_float, check_positive_int

__all__ = ["Schedule", "linear_schedule", "scaled_linear_schedule", "cosine_schedule"]


class Schedule:
    """A VP noise schedule built from ``β_1..β_n`` (a 1-D tensor, every entry in (0, 1))."""

    def __init__(self, betas: torch.Tensor, dtype: torch.dtype = torch.float64) -> None:
        b = as_tensor(betas, "betas", dtype=dtype)
        if b.dim() != 1 or b.numel() < 1:
            raise ValueError(f"betas must be a 1-D tensor with n >= 1 entries (β_1..β_n), got shape {tuple(b.shape)}")
        if not bool(torch.isfinite(b).all()):
            raise ValueError("betas must be finite; got NaN or infinity")
        if not bool(((b > 0) & (b < 1)).all()):
            bad = b[(b <= 0) | (b >= 1)]
            raise ValueError(
                f"every β_i must lie in the open interval (0, 1); got {bad.numel()} value(s) outside it, "
                f"e.g. {float(bad[0]):.6g}")
        padded = torch.cat([b.new_zeros(1), b])
        self.betas = padded  # shape (n + 1,), betas[0] = 0

    # -- derived arrays -------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of steps ``n``."""
        return self.betas.numel() - 1

    @property
    def alphas(self) -> torch.Tensor:
        """``α_i = 1 − β_i``, shape ``(n + 1,)``."""
        return 1 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:
        """``ᾱ_i = Π_{j≤i} α_j``, shape ``(n + 1,)``, ``ᾱ_0 = 1``."""
        return torch.cumprod(self.alphas, dim=0)

    @property
    def times(self) -> torch.Tensor:
        """OU times ``t_i = Σ_{j≤i} β_j``, shape ``(n + 1,)``, ``t_0 = 0``."""
        return torch.cumsum(self.betas, dim=0)

    @property
    def posterior_variances(self) -> torch.Tensor:
        """``β̃_i = (1 − ᾱ_{i−1}) β_i / (1 − ᾱ_i)``, shape ``(n + 1,)``, with ``β̃_0 = β̃_1 = 0``."""
        ab = self.alpha_bars
        out = torch.zeros_like(self.betas)
        out[1:] = (1 - ab[:-1]) / (1 - ab[1:]) * self.betas[1:]
        return out

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Schedule":
        """The same schedule with its tensors on ``device`` / in ``dtype``."""
        b = self.betas[1:].to(device=device or self.betas.device, dtype=dtype or self.betas.dtype)
        return Schedule(b, dtype=b.dtype)

    def respace(self, k: int) -> tuple["Schedule", torch.Tensor]:
        """``k`` evenly spaced steps ``0 = τ_0 < τ_1 < … < τ_k = n`` and the ``k``-step schedule on them.

        The new schedule has ``ᾱ'_j = ᾱ_{τ_j}`` (so ``β'_j = 1 − ᾱ_{τ_j}/ᾱ_{τ_{j−1}}``): the same noise
        levels, visited in fewer steps. Returns ``(schedule, taus)`` with ``taus`` of shape ``(k + 1,)``;
        a predictor trained on this schedule is evaluated at ``taus[j]`` (see
        :func:`ddpm_lib.samplers.on_original_steps`).
        """
        k = check_positive_int(k, "k")
        if k > self.n:
            raise ValueError(f"k must be at most the schedule's n = {self.n}, got {k}")
        taus = torch.linspace(0, self.n, k + 1, dtype=torch.float64).round().long()
        ab = self.alpha_bars[taus]
        return Schedule(1 - ab[1:] / ab[:-1], dtype=self.betas.dtype), taus

    def check_step(self, i: int | torch.Tensor, name: str = "i", allow_zero: bool = False) -> torch.Tensor:
        """Return ``i`` as a long tensor after checking ``1 ≤ i ≤ n`` (or ``0 ≤ i`` with ``allow_zero``)."""
        if isinstance(i, bool):
            raise TypeError(f"{name} must be an integer step index, got a bool")
        idx = torch.as_tensor(i, device=self.betas.device)
        if idx.is_floating_point() or idx.is_complex():
            raise TypeError(f"{name} must be an integer step index, got dtype {idx.dtype}")
        low = 0 if allow_zero else 1
        if idx.numel() and (int(idx.min()) < low or int(idx.max()) > self.n):
            raise ValueError(f"{name} must be a step index in [{low}, {self.n}] for this {self.n}-step schedule, "
                             f"got values in [{int(idx.min())}, {int(idx.max())}]")
        return idx.long()

    def __repr__(self) -> str:
        return (f"Schedule(n={self.n}, β_1={float(self.betas[1]):.3g}, β_n={float(self.betas[-1]):.3g}, "
                f"ᾱ_n={float(self.alpha_bars[-1]):.3g}, t_n={float(self.times[-1]):.3g})")


def linear_schedule(n: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02,
                    dtype: torch.dtype = torch.float64) -> Schedule:
    """Ho et al. (2020): ``β_i`` evenly spaced from ``beta_start`` to ``beta_end`` over ``n`` steps."""
    n = check_positive_int(n, "n")
    for name, v in (("beta_start", beta_start), ("beta_end", beta_end)):
        v = check_positive_float(v, name)
        if v >= 1:
            raise ValueError(f"{name} must lie in (0, 1), got {v}")
    if beta_start > beta_end:
        raise ValueError(f"beta_start must be <= beta_end (β increases with the step), got "
                         f"beta_start = {beta_start}, beta_end = {beta_end}")
    if n == 1:
        return Schedule(torch.tensor([beta_start], dtype=dtype), dtype=dtype)
    return Schedule(torch.linspace(beta_start, beta_end, n, dtype=torch.float64), dtype=dtype)


def scaled_linear_schedule(n: int, dtype: torch.dtype = torch.float64) -> Schedule:
    """Ho et al.'s linear schedule rescaled to ``n`` steps: ``β`` from ``0.1/n`` to ``20/n`` (capped at 0.5
    and 0.999), so that every ``n`` reaches about the same OU time ``t_n ≈ 10`` and ``ᾱ_n ≈ 4·10⁻⁵``.

    ``linear_schedule(n)`` keeps the per-step ``β`` instead, so for small ``n`` it ends far from noise.
    """
    n = check_positive_int(n, "n")
    return linear_schedule(n, beta_start=min(0.1 / n, 0.5), beta_end=min(20.0 / n, 0.999), dtype=dtype)


def cosine_alpha_bar(u: float | torch.Tensor, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's ``f(u) / f(0)`` with ``f(u) = cos²((u + s)/(1 + s) · π/2)``, ``u = i/n ∈ [0, 1]``."""
    s = check_positive_float(s, "s")
    u = as_tensor(u, "u", dtype=torch.float64 if not isinstance(u, torch.Tensor) else None)
    if not bool((torch.isfinite(u) & (u >= 0) & (u <= 1)).all()):
        raise ValueError(f"u = i/n must lie in [0, 1], got values in [{float(u.min())}, {float(u.max())}]"
                         if u.numel() and not bool(torch.isnan(u).any()) else "u = i/n must lie in [0, 1], got NaN")
    f = torch.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    f0 = math.cos(s / (1 + s) * math.pi / 2) ** 2
    return f / f0


def cosine_schedule(n: int = 1000, s: float = 0.008, max_beta: float = 0.999,
                    dtype: torch.dtype = torch.float64) -> Schedule:
    """Nichol & Dhariwal (2021): ``β_i = min(1 − ᾱ(i/n)/ᾱ((i−1)/n), max_beta)`` with the cosine ``ᾱ``."""
    n = check_positive_int(n, "n")
    s = check_positive_float(s, "s")
    max_beta = check_positive_float(max_beta, "max_beta")
    if max_beta >= 1:
        raise ValueError(f"max_beta must lie in (0, 1), got {max_beta}")
    u = torch.arange(n + 1, dtype=torch.float64) / n
    ab = cosine_alpha_bar(u, s)
    betas = torch.clamp(1 - ab[1:] / ab[:-1], min=1e-12, max=max_beta)
    return Schedule(betas, dtype=dtype)
