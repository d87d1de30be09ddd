"""Gaussian mixtures: targets whose diffused scores are known exactly.

A mixture ``p = Σ_k w_k N(μ_k, Σ_k)`` stays a mixture under the forward OU process:
``p_t = Σ_k w_k N(e^{−t/2} μ_k, e^{−t} Σ_k + (1 − e^{−t}) I)`` (and under ``i`` VP steps with
``e^{−t}`` replaced by ``ᾱ_i``). So the exact score ``∇ log p_t`` — and the exact
ε-prediction ``ε*(x_i, i) = −√(1−ᾱ_i) ∇ log p_i(x_i)`` — are available in closed form, and a
sampler can be tested with no network in the loop.

Two implementations of the same score, used to check each other in the tests:

* :meth:`GaussianMixture.score` / :meth:`GaussianMixture.log_prob` work with the Cholesky
  factors ``Σ_k = L_k L_kᵀ`` (triangular solves, log-sum-exp over components);
* :meth:`GaussianMixture.score_fn` / :meth:`GaussianMixture.eps_fn` use the eigenbasis
  ``Σ_k = U_k diag(λ_k) U_kᵀ``, in which every diffused covariance is diagonal
  (``a² λ_k + v``), so one vectorised formula serves a scalar time and a ``(batch,)`` of
  per-sample times alike.
"""
from __future__ import annotations

import math

import torch

from .forward import ou_mean_scale, ou_variance
from .mixture_scores import DiffusedScores, _scalar_time, _softmax_rows
from .validation import as_tensor, check_finite, check_positive_float, check_positive_int

__all__ = ["GaussianMixture", "separated_mixture", "ring_mixture", "bimodal_1d"]

_LOG_2PI = math.log(2 * math.pi)


class GaussianMixture(DiffusedScores):
    """``Σ_k w_k N(μ_k, Σ_k)`` in ``d`` dimensions: weights ``(K,)``, means ``(K, d)``, covariances ``(K, d, d)``.

    ``weights`` must be positive and sum to 1 within ``1e-6`` (pass ``normalize=True`` to
    rescale positive weights that do not); every ``Σ_k`` must be symmetric positive definite.
    """

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, covariances: torch.Tensor,
                 dtype: torch.dtype = torch.float64, device: torch.device | str | None = None,
                 *, normalize: bool = False) -> None:
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating torch.dtype, got {dtype!r}")
        w = _as_float(weights, "weights", dtype, device)
        mu = _as_float(means, "means", dtype, device)
        cov = _as_float(covariances, "covariances", dtype, device)
        if w.dim() != 1 or w.numel() < 1:
            raise ValueError(f"weights must be a 1-D tensor of K >= 1 mixture weights, got shape {tuple(w.shape)}")
        K = w.numel()
        if mu.dim() != 2 or mu.shape[0] != K or mu.shape[1] < 1:
            raise ValueError(f"means must have shape (K, d) = ({K}, d) to match weights of shape ({K},), "
                             f"got {tuple(mu.shape)}")
        d = mu.shape[1]
        if cov.shape != (K, d, d):
            raise ValueError(f"covariances must have shape (K, d, d) = ({K}, {d}, {d}), got {tuple(cov.shape)}")
        for name, t in (("weights", w), ("means", mu), ("covariances", cov)):
            check_finite(t, name)
        if not bool((w > 0).all()):
            raise ValueError(f"weights must all be positive, got {w.tolist()}")
        total = float(w.sum())
        if abs(total - 1) > 1e-6 and not normalize:
            raise ValueError(f"weights must sum to 1 (within 1e-6), got a sum of {total:.9g}; "
                             "pass normalize=True to rescale them")
        w = w / w.sum()
        scale = cov.abs().amax(dim=(-2, -1), keepdim=True).clamp_min(torch.finfo(dtype).tiny)
        if not bool(((cov - cov.mT).abs() <= 1e-8 * scale + 1e-12).all()):
            raise ValueError("covariances must be symmetric: covariances[k] != covariances[k].T for some k")
        cov = (cov + cov.mT) / 2
        chol, info = torch.linalg.cholesky_ex(cov)
        if bool((info != 0).any()):
            bad = int(torch.nonzero(info != 0)[0, 0])
            raise ValueError(f"covariances must be positive definite: the Cholesky factorisation of "
                             f"covariances[{bad}] failed")
        self.weights = w
        self.means = mu
        self.covariances = cov
        self._chol = chol  # (K, d, d), lower triangular
        self._log_weights = torch.log(w)
        self._log_det = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)  # (K,)
        # whitening for score/log_prob: z_k = L_k⁻¹ (x − μ_k) with L_k⁻¹ from a triangular solve
        K, d = w.numel(), mu.shape[1]
        eye = torch.eye(d, dtype=dtype, device=mu.device)
        chol_inv = torch.linalg.solve_triangular(chol, eye.expand(K, d, d), upper=False)  # (K, d, d)
        self._white_cat = chol_inv.permute(2, 0, 1).reshape(d, K * d)  # x @ it = [L_k⁻¹ x]_k, (d, K d)
        self._white_means = torch.einsum("kij,kj->ki", chol_inv, mu).reshape(K * d)  # L_k⁻¹ μ_k
        self._white_back = chol_inv.reshape(K * d, d)  # Σ_k r_k L_k⁻ᵀ z_k = (r ⊗ 1 · z) @ it
        self._block_ones = torch.ones(d, dtype=dtype, device=mu.device)
        # eigenbasis for the diffused scores: Σ_k = U_k diag(λ_k) U_kᵀ (diagonal after diffusion)
        lam, U = torch.linalg.eigh(cov)
        self._eig_values = lam.reshape(K * d)  # (K d,)
        self._eig_vectors_cat = U.permute(1, 0, 2).reshape(d, K * d)  # column k d + j is U_k[:, j]
        self._eig_vectors_cat_t = self._eig_vectors_cat.T.contiguous()
        self._means_rot = torch.einsum("kd,kde->ke", mu, U).reshape(K * d)  # U_kᵀ μ_k
        # isotropic fast path (Σ_k = σ_k² I): work on (N, K) arrays only
        diag_var = torch.diagonal(cov, dim1=-2, dim2=-1)
        self._isotropic = bool((cov == diag_var[:, :1, None] * eye).all())
        self._iso_var = diag_var[:, 0].clone()  # σ_k², (K,)
        self._means_t = mu.T.contiguous()  # (d, K)
        self._means_sq = (mu * mu).sum(-1)  # |μ_k|², (K,)
        self._ones_k = torch.ones(K, dtype=dtype, device=mu.device)

    # -- basic properties --------------------------------------------------------------
    @classmethod
    def isotropic(cls, weights: torch.Tensor, means: torch.Tensor, stds: float | torch.Tensor,
                  dtype: torch.dtype = torch.float64, device: torch.device | str | None = None,
                  *, normalize: bool = False) -> "GaussianMixture":
        """A mixture with ``Σ_k = std_k² I``; ``stds`` a float or ``(K,)``."""
        mu = _as_float(means, "means", dtype, device)
        if mu.dim() != 2:
            raise ValueError(f"means must have shape (K, d), got {tuple(mu.shape)}")
        K, d = mu.shape
        s = _as_float(stds, "stds", dtype, device).reshape(-1)
        if s.numel() == 1:
            s = s.expand(K)
        if s.numel() != K:
            raise ValueError(f"stds must be a float or have shape ({K},), got {s.numel()} values")
        if not bool((s > 0).all()):
            raise ValueError(f"stds must be positive, got {s.tolist()}")
        cov = (s ** 2)[:, None, None] * torch.eye(d, dtype=dtype, device=mu.device)
        return cls(weights, mu, cov, dtype=dtype, device=device, normalize=normalize)

    @property
    def dim(self) -> int:
        """The dimension ``d``."""
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        """The number of components ``K``."""
        return self.weights.numel()

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the parameters (float64 by default)."""
        return self.means.dtype

    @property
    def device(self) -> torch.device:
        """The device of the parameters."""
        return self.means.device

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "GaussianMixture":
        """The same mixture with its parameters on ``device`` / in ``dtype``."""
        return GaussianMixture(self.weights, self.means, self.covariances, dtype=dtype or self.dtype,
                               device=device or self.device, normalize=True)

    def __repr__(self) -> str:
        return f"GaussianMixture(K={self.n_components}, d={self.dim}, dtype={self.dtype}, device={self.device})"

    def mean(self) -> torch.Tensor:
        """The mixture mean ``Σ_k w_k μ_k``, shape ``(d,)``."""
        return self.weights @ self.means

    def covariance(self) -> torch.Tensor:
        """The mixture covariance ``Σ_k w_k (Σ_k + μ_k μ_kᵀ) − m mᵀ``, shape ``(d, d)``."""
        m = self.mean()
        second = torch.einsum("k,kij->ij", self.weights, self.covariances + self.means[:, :, None] * self.means[:, None, :])
        return second - m[:, None] * m[None, :]

    # -- sampling ------------------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator | None = None,
               return_labels: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` points, shape ``(n, d)``; with ``return_labels`` also their components ``(n,)`` (long)."""
        n = check_positive_int(n, "n", minimum=0)
        gdev = generator.device if generator is not None else self.device
        labels = torch.multinomial(self.weights.to(gdev), n, replacement=True, generator=generator) if n else \
            torch.zeros(0, dtype=torch.long, device=gdev)
        z = torch.randn((n, self.dim), generator=generator, dtype=self.dtype, device=gdev)
        labels, z = labels.to(self.device), z.to(self.device)
        x = self.means[labels] + (self._chol[labels] @ z[:, :, None]).squeeze(-1)
        return (x, labels) if return_labels else x

    # -- densities and scores via Cholesky ----------------------------------------------
    def _prepare(self, x: torch.Tensor, name: str = "x") -> tuple[torch.Tensor, tuple[int, ...]]:
        x = as_tensor(x, name)
        if x.dim() < 1 or x.shape[-1] != self.dim:
            raise ValueError(f"{name} must have shape (..., {self.dim}) for this {self.dim}-D mixture, "
                             f"got {tuple(x.shape)}")
        if x.device != self.device:
            raise ValueError(f"{name} is on {x.device} but the mixture is on {self.device}; use mixture.to(device)")
        return x.reshape(-1, self.dim).to(self.dtype), tuple(x.shape[:-1])

    def _block_sum(self, y: torch.Tensor) -> torch.Tensor:
        """Sum ``(N, K d)`` over each component's ``d`` coordinates -> ``(N, K)`` (a matvec: fast on CPU)."""
        N, d = y.shape[0], self.dim
        return y if d == 1 else (y.reshape(N * self.n_components, d) @ self._block_ones).view(N, -1)

    def _logits(self, xf: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """For ``xf (N, d)``: ``log w_k + log N(x; μ_k, Σ_k)`` ``(N, K)`` and ``z = [L_k⁻¹(x − μ_k)]_k`` ``(N, K d)``."""
        z = xf @ self._white_cat - self._white_means
        maha = self._block_sum(z * z)
        const = self._log_weights - 0.5 * self._log_det - 0.5 * self.dim * _LOG_2PI
        return const - 0.5 * maha, z

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """``log p(x)`` (log-sum-exp over components); ``x (..., d)`` -> ``(...)``."""
        xf, batch = self._prepare(x)
        logits, _ = self._logits(xf)
        return torch.logsumexp(logits, dim=-1).reshape(batch)

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior component probabilities ``P(k | x)``; ``x (..., d)`` -> ``(..., K)``."""
        xf, batch = self._prepare(x)
        logits, _ = self._logits(xf)
        return _softmax_rows(logits, self._ones_k).reshape(batch + (self.n_components,))

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """``∇ log p(x) = −Σ_k P(k|x) Σ_k⁻¹ (x − μ_k)`` via the Cholesky factors; ``x (..., d)`` -> ``(..., d)``."""
        xf, batch = self._prepare(x)
        logits, z = self._logits(xf)
        r = _softmax_rows(logits, self._ones_k)  # (N, K)
        N, K, d = xf.shape[0], self.n_components, self.dim
        s = -((r.unsqueeze(-1) * z.view(N, K, d)).view(N, K * d) @ self._white_back)  # −Σ_k r_k L_k⁻ᵀ z_k
        return s.reshape(batch + (d,)).to(x.dtype if isinstance(x, torch.Tensor) else self.dtype)

    # -- diffused mixtures ---------------------------------------------------------------
    def _diffused(self, a: float | torch.Tensor, v: float | torch.Tensor) -> "GaussianMixture":
        eye = torch.eye(self.dim, dtype=self.dtype, device=self.device)
        return GaussianMixture(self.weights, a * self.means, a * a * self.covariances + v * eye,
                               dtype=self.dtype, device=self.device, normalize=True)

    def diffuse(self, t: float) -> "GaussianMixture":
        """The law of ``x_t`` under the OU process from ``x_0 ~ self``: means ``e^{−t/2} μ_k``, covariances ``e^{−t} Σ_k + (1 − e^{−t}) I``."""
        t = _scalar_time(t, "t")
        return self._diffused(ou_mean_scale(t), ou_variance(t))

    def diffuse_discrete(self, alpha_bar: float) -> "GaussianMixture":
        """The law of ``x_i = √ᾱ x_0 + √(1−ᾱ) ε``: means ``√ᾱ μ_k``, covariances ``ᾱ Σ_k + (1−ᾱ) I``."""
        ab = float(alpha_bar) if not isinstance(alpha_bar, torch.Tensor) else float(alpha_bar.reshape(()))
        if not (0 < ab <= 1) or not math.isfinite(ab):
            raise ValueError(f"alpha_bar must lie in (0, 1], got {ab}")
        return self._diffused(math.sqrt(ab), 1 - ab)

def _as_float(x: object, name: str, dtype: torch.dtype, device: torch.device | str | None) -> torch.Tensor:
    """``as_tensor`` that converts Python numbers straight to ``dtype`` (no float32 round trip)."""
    if not isinstance(x, torch.Tensor) and not isinstance(x, bool):
        try:
            x = torch.as_tensor(x, dtype=dtype)
        except (TypeError, ValueError, RuntimeError):
            pass  # as_tensor below raises the clear error
    return as_tensor(x, name, dtype=dtype, device=device)


# -- ready-made targets ------------------------------------------------------------------
def separated_mixture(dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> GaussianMixture:
    """2-D, two modes at ``(−4, 0)`` (weight 0.3) and ``(4, 0)`` (weight 0.7), std 0.5: plain Langevin cannot cross."""
    return GaussianMixture.isotropic([0.3, 0.7], [[-4.0, 0.0], [4.0, 0.0]], 0.5,
                                     dtype=dtype, device=device)


def ring_mixture(k: int = 8, radius: float = 3.0, std: float = 0.3, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None) -> GaussianMixture:
    """2-D, ``k`` equal-weight isotropic modes (std ``std``) evenly spaced on a circle of radius ``radius``."""
    k = check_positive_int(k, "k")
    radius = check_positive_float(radius, "radius")
    std = check_positive_float(std, "std")
    angles = 2 * math.pi * torch.arange(k, dtype=torch.float64) / k
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return GaussianMixture.isotropic(torch.full((k,), 1.0 / k, dtype=torch.float64), means, std, dtype=dtype,
                                     device=device)


def bimodal_1d(dtype: torch.dtype = torch.float64, device: torch.device | str | None = None) -> GaussianMixture:
    """1-D, modes at −2 (weight 0.3, std 0.5) and 2 (weight 0.7, std 0.7): for plots of densities and scores."""
    return GaussianMixture([0.3, 0.7], [[-2.0], [2.0]], [[[0.25]], [[0.49]]], dtype=dtype, device=device)
