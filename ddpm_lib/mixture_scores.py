"""The exact diffused scores of a Gaussian mixture, in the eigenbasis of its covariances.

Mixed into :class:`ddpm_lib.mixtures.GaussianMixture`: with ``Σ_k = U_k diag(λ_k) U_kᵀ`` every
diffused covariance ``a² Σ_k + v I`` is diagonal in the same basis (``a² λ_k + v``), so one
vectorised formula gives the score of ``Σ_k w_k N(a μ_k, a² Σ_k + v I)`` for a scalar time and for
a ``(batch,)`` of per-sample times alike; isotropic mixtures take a faster path on ``(N, K)`` arrays.
"""
from __future__ import annotations

import math

import torch

from .forward import ou_mean_scale, ou_variance
from .schedules import Schedule
from .types import EpsFn, ScoreFn
from .validation import as_tensor

__all__ = ["DiffusedScores"]


class DiffusedScores:
    """``score_fn()`` and ``eps_fn(schedule)`` of a mixture; uses the attributes that ``GaussianMixture`` sets."""

    def _score_av(self, x: torch.Tensor, a: float | torch.Tensor, v: float | torch.Tensor) -> torch.Tensor:
        """Score of ``Σ_k w_k N(a μ_k, a² Σ_k + v I)`` at ``x (N, d)``; ``a, v`` floats or ``(N,)`` tensors."""
        K, d = self.n_components, self.dim
        N = x.shape[0]
        per_sample = isinstance(a, torch.Tensor)
        if self._isotropic:  # D_k = a² σ_k² + v; everything on (N, K) arrays
            if per_sample:
                a_col, v_col = a[:, None], v[:, None]
            else:
                a_col, v_col = a, v
            D = (a_col * a_col) * self._iso_var + v_col  # (K,) or (N, K)
            inv_d = 1.0 / D
            # log w_k − (d/2) log D_k − |x − a μ_k|² / (2 D_k)  (constant dropped), expanded as
            # const_k + (a/D_k) x·μ_k − |x|² / (2 D_k)
            const = self._log_weights - 0.5 * d * torch.log(D) - (0.5 * a_col * a_col) * self._means_sq * inv_d
            logits = torch.addcmul(const, x @ self._means_t, a_col * inv_d)
            xx = (x * x) @ self._block_ones  # |x|², (N,)
            if per_sample:
                logits = logits.sub_(xx[:, None] * inv_d, alpha=0.5)
            else:
                logits = logits.addr_(xx, inv_d, alpha=-0.5)
            e = torch.exp_(logits.sub_(logits.amax(-1, keepdim=True)))  # unnormalised responsibilities
            e_over_d = e * inv_d
            # −Σ_k r_k (x − a μ_k) / D_k with r_k = e_k / Σ_j e_j
            lin = (e_over_d * a_col) @ self.means if per_sample else (e_over_d @ self.means).mul_(a)
            out = lin.sub_(x * (e_over_d @ self._ones_k)[:, None])
            return out.div_((e @ self._ones_k)[:, None])
        y = x @ self._eig_vectors_cat  # U_kᵀ x, (N, K d)
        if per_sample:
            a2, v2 = a[:, None], v[:, None]
            D = a2 * a2 * self._eig_values + v2  # (N, K d)
            y = y - a2 * self._means_rot
            half_logdet = 0.5 * self._block_sum(torch.log(D))  # (N, K)
        else:
            D = a * a * self._eig_values + v  # (K d,)
            y = y - a * self._means_rot
            half_logdet = 0.5 * self._block_sum(torch.log(D)[None, :])[0]  # (K,)
        w = y / D  # U_kᵀ (a²Σ_k + vI)⁻¹ (x − a μ_k)
        logits = (self._log_weights - half_logdet) - 0.5 * self._block_sum(y * w)  # (N, K); constant dropped
        r = _softmax_rows(logits, self._ones_k)
        return -((r.unsqueeze(-1) * w.view(N, K, d)).view(N, K * d) @ self._eig_vectors_cat_t)

    def _flat(self, x: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.dtype]:
        """``x`` as ``(N, d)`` in the mixture's dtype, and the dtype to give results back in."""
        dtype = x.dtype if isinstance(x, torch.Tensor) and x.is_floating_point() else torch.float64
        return self._prepare(x, name)[0], dtype

    def score_fn(self) -> ScoreFn:
        """``s(x, t) = ∇ log p_t(x)`` of the OU-diffused mixture; ``x (..., d)``, ``t`` a float or ``(batch,)`` -> ``x``'s shape."""

        def score(x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
            x = x if isinstance(x, torch.Tensor) else as_tensor(x, "x")  # a list of floats: float64
            xf, out_dtype = self._flat(x, "x")
            if isinstance(t, torch.Tensor) and t.dim() > 0:
                tt = _batch_values(t, x, "t", self.dtype)
                if not bool((torch.isfinite(tt) & (tt >= 0)).all()):
                    raise ValueError("t must hold finite times >= 0")
                tt = tt.repeat_interleave(xf.shape[0] // tt.shape[0])
                s = self._score_av(xf, ou_mean_scale(tt), ou_variance(tt))
            else:
                tf = _scalar_time(t, "t")
                s = self._score_av(xf, math.exp(-tf / 2), -math.expm1(-tf))
            return s.reshape(x.shape).to(out_dtype)

        return score

    def eps_fn(self, schedule: Schedule) -> EpsFn:
        """``ε*(x_i, i) = −√(1−ᾱ_i) ∇ log p_i(x_i)``, ``p_i`` = :meth:`diffuse_discrete` (ᾱ_i); ``i`` an int or ``(batch,)`` long."""
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a ddpm_lib.Schedule, got {type(schedule).__name__}")
        ab_t = schedule.alpha_bars.to(dtype=self.dtype, device=self.device)
        ab_list = ab_t.tolist()

        def eps(x: torch.Tensor, i: int | torch.Tensor) -> torch.Tensor:
            x = x if isinstance(x, torch.Tensor) else as_tensor(x, "x")  # a list of floats: float64
            xf, out_dtype = self._flat(x, "x")
            if isinstance(i, torch.Tensor) and i.dim() > 0:
                idx = schedule.check_step(i, "i").to(self.device)
                if idx.dim() != 1 or x.dim() < 2 or idx.shape[0] != x.shape[0]:
                    raise ValueError(f"per-sample steps i of shape {tuple(idx.shape)} need x with batch size "
                                     f"{idx.shape[0]}, got x of shape {tuple(x.shape)}")
                first = int(idx[0])
                if bool((idx == first).all()):  # one step for the whole batch (as the samplers pass)
                    i = first
            if isinstance(i, torch.Tensor) and i.dim() > 0:
                ab = ab_t[idx].repeat_interleave(xf.shape[0] // idx.shape[0])
                v = 1 - ab
                s = self._score_av(xf, torch.sqrt(ab), v)
                e = -torch.sqrt(v)[:, None] * s
            else:
                ii = int(schedule.check_step(i, "i"))
                ab = ab_list[ii]
                s = self._score_av(xf, math.sqrt(ab), 1 - ab)
                e = -math.sqrt(1 - ab) * s
            return e.reshape(x.shape).to(out_dtype)

        return eps


def _softmax_rows(logits: torch.Tensor, ones: torch.Tensor) -> torch.Tensor:
    """Row-wise softmax of ``(N, K)`` (max-shifted; the row sums as a matvec, faster than ``torch.softmax`` for small K)."""
    e = torch.exp(logits - logits.amax(-1, keepdim=True))
    return e / (e @ ones)[:, None]


def _scalar_time(t: float | torch.Tensor, name: str) -> float:
    if isinstance(t, bool):
        raise TypeError(f"{name} must be a number, got a bool")
    if isinstance(t, torch.Tensor):
        if t.numel() != 1:
            raise ValueError(f"{name} must be a scalar time here, got shape {tuple(t.shape)}")
        t = t.item()
    try:
        tf = float(t)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or a tensor of times, got {type(t).__name__}") from exc
    if not math.isfinite(tf) or tf < 0:
        raise ValueError(f"{name} must be a finite time >= 0, got {tf}")
    return tf


def _batch_values(t: torch.Tensor, x: torch.Tensor, name: str, dtype: torch.dtype) -> torch.Tensor:
    if t.dim() != 1 or x.dim() < 2 or t.shape[0] != x.shape[0]:
        raise ValueError(f"a per-sample {name} of shape {tuple(t.shape)} needs x of shape (batch, ..., d) with "
                         f"batch {t.shape[0] if t.dim() == 1 else '?'}, got x of shape {tuple(x.shape)}")
    return t.to(dtype=dtype, device=x.device)
