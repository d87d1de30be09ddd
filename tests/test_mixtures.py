"""Tests of ddpm_lib.mixtures: exact densities, scores and diffused mixtures."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from ddpm_lib import linear_schedule
from ddpm_lib.forward import ou_sample
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import GaussianMixture, bimodal_1d, ring_mixture, separated_mixture

F64 = torch.float64



def random_mixture(seed: int, K: int, d: int) -> GaussianMixture:
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(K, d, d, dtype=F64, generator=g)
    cov = A @ A.mT / d + 0.2 * torch.eye(d, dtype=F64)
    w = torch.rand(K, dtype=F64, generator=g) + 0.1
    return GaussianMixture(w / w.sum(), 2 * torch.randn(K, d, dtype=F64, generator=g), cov)


def all_targets() -> list[GaussianMixture]:
    return [random_mixture(0, 3, 3), random_mixture(1, 1, 2), ring_mixture(), separated_mixture(), bimodal_1d(),
            GaussianMixture.isotropic(torch.tensor([0.25, 0.75]), torch.randn(2, 4), torch.tensor([0.5, 1.5]))]


# -- validation ------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors() -> None:
    eye = torch.eye(2).expand(2, 2, 2)
    mu = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="weights must all be positive"):
        GaussianMixture(torch.tensor([1.2, -0.2]), mu, eye)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        GaussianMixture(torch.tensor([0.5, 0.6]), mu, eye)
    gm = GaussianMixture(torch.tensor([1.0, 3.0]), mu, eye, normalize=True)
    assert torch.allclose(gm.weights, torch.tensor([0.25, 0.75], dtype=F64))
    with pytest.raises(ValueError, match=r"means must have shape \(K, d\)"):
        GaussianMixture(torch.tensor([0.5, 0.5]), torch.zeros(3, 2), eye)
    with pytest.raises(ValueError, match=r"covariances must have shape \(K, d, d\)"):
        GaussianMixture(torch.tensor([0.5, 0.5]), mu, torch.eye(3).expand(2, 3, 3))
    with pytest.raises(ValueError, match="covariances must be symmetric"):
        GaussianMixture(torch.tensor([1.0]), torch.zeros(1, 2), torch.tensor([[[1.0, 0.5], [0.0, 1.0]]]))
    with pytest.raises(ValueError, match=r"positive definite.*covariances\[1\]"):
        GaussianMixture(torch.tensor([0.5, 0.5]), mu, torch.stack([torch.eye(2), -torch.eye(2)]))
    with pytest.raises(ValueError, match="weights must be finite"):
        GaussianMixture(torch.tensor([float("nan"), 0.5]), mu, eye)
    with pytest.raises(TypeError, match="weights must hold real numbers"):
        GaussianMixture(torch.tensor([True]), torch.zeros(1, 2), torch.eye(2)[None])
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 2\)"):
        ring_mixture().score(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="t must be a finite time >= 0"):
        ring_mixture().score_fn()(torch.zeros(5, 2, dtype=F64), -0.1)
    with pytest.raises(ValueError, match="per-sample t"):
        ring_mixture().score_fn()(torch.zeros(5, 2, dtype=F64), torch.ones(4, dtype=F64))
    with pytest.raises(ValueError, match=r"step index in \[1, 10\]"):
        ring_mixture().eps_fn(linear_schedule(10))(torch.zeros(5, 2, dtype=F64), 0)
    with pytest.raises(ValueError, match=r"alpha_bar must lie in \(0, 1\]"):
        ring_mixture().diffuse_discrete(0.0)


# -- densities and scores --------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), K=st.integers(1, 4), d=st.integers(1, 4))
def test_score_is_the_gradient_of_log_prob(seed: int, K: int, d: int) -> None:
    gm = random_mixture(seed, K, d)
    x = (3 * torch.randn(40, d, dtype=F64, generator=torch.Generator().manual_seed(seed + 1))).requires_grad_()
    (grad,) = torch.autograd.grad(gm.log_prob(x).sum(), x)
    torch.testing.assert_close(gm.score(x.detach()), grad, rtol=1e-9, atol=1e-9)


def test_score_matches_finite_differences() -> None:
    for gm in all_targets():
        x = 2 * torch.randn(20, gm.dim, dtype=F64, generator=torch.Generator().manual_seed(3))
        h = 1e-5
        fd = torch.stack([(gm.log_prob(x + h * e) - gm.log_prob(x - h * e)) / (2 * h)
                          for e in torch.eye(gm.dim, dtype=F64)], dim=-1)
        torch.testing.assert_close(gm.score(x), fd, rtol=1e-6, atol=1e-6)


def test_log_prob_matches_scipy() -> None:
    gm = random_mixture(4, 1, 3)
    x = torch.randn(30, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    ref = multivariate_normal(gm.means[0].numpy(), gm.covariances[0].numpy()).logpdf(x.numpy())
    np.testing.assert_allclose(gm.log_prob(x).numpy(), ref, rtol=1e-12, atol=1e-12)
    gm = random_mixture(5, 3, 2)
    dens = sum(float(w) * multivariate_normal(m.numpy(), c.numpy()).pdf(x[:, :2].numpy())
               for w, m, c in zip(gm.weights, gm.means, gm.covariances))
    np.testing.assert_allclose(gm.log_prob(x[:, :2]).numpy(), np.log(dens), rtol=1e-11)


def test_scores_are_stable_far_from_the_modes_and_keep_batch_shapes() -> None:
    gm = separated_mixture()
    x = torch.tensor([[1e3, 0.0], [-1e3, 5e2], [0.0, 0.0]], dtype=F64)
    for s in (gm.score(x), gm.score_fn()(x, 0.0), gm.score_fn()(x, 0.5)):
        assert bool(torch.isfinite(s).all())
    # far away only the nearest component matters: score = −(x − μ_k)/σ²
    torch.testing.assert_close(gm.score(x[:1]), -(x[:1] - gm.means[1]) / 0.25)
    assert gm.log_prob(torch.zeros(4, 5, 2)).shape == (4, 5)
    assert gm.score(torch.zeros(4, 5, 2)).shape == (4, 5, 2)
    assert gm.responsibilities(torch.zeros(4, 5, 2)).shape == (4, 5, 2)
    assert gm.score(torch.zeros(3, 2, dtype=torch.float32)).dtype == torch.float32


def test_responsibilities_sum_to_one_and_pick_the_near_mode() -> None:
    gm = separated_mixture()
    r = gm.responsibilities(torch.tensor([[-4.0, 0.0], [4.0, 0.0], [0.0, 0.0]], dtype=F64))
    torch.testing.assert_close(r.sum(-1), torch.ones(3, dtype=F64))
    assert r[0, 0] > 0.999 and r[1, 1] > 0.999
    # on the bisector the two equal-width components differ only by their weights
    torch.testing.assert_close(r[2], gm.weights)


def test_sampling_moments_and_labels() -> None:
    gm = random_mixture(7, 3, 2)
    x, labels = gm.sample(200_000, torch.Generator().manual_seed(0), return_labels=True)
    assert x.shape == (200_000, 2) and labels.shape == (200_000,) and labels.dtype == torch.long
    freq = torch.bincount(labels, minlength=3).to(F64) / 200_000
    se = torch.sqrt(gm.weights * (1 - gm.weights) / 200_000)
    assert bool(((freq - gm.weights).abs() < 5 * se).all())
    cov = gm.covariance()
    se_mean = torch.sqrt(torch.diagonal(cov) / 200_000)
    assert bool(((x.mean(0) - gm.mean()).abs() < 5 * se_mean).all())
    torch.testing.assert_close(torch.cov(x.T), cov, rtol=0.03, atol=0.03)
    # reproducible
    torch.testing.assert_close(gm.sample(10, torch.Generator().manual_seed(3)),
                               gm.sample(10, torch.Generator().manual_seed(3)))


# -- diffused mixtures -----------------------------------------------------------------
def test_diffuse_formulas() -> None:
    gm = random_mixture(8, 2, 3)
    t = 0.7
    gt = gm.diffuse(t)
    torch.testing.assert_close(gt.means, math.exp(-t / 2) * gm.means)
    torch.testing.assert_close(gt.covariances, math.exp(-t) * gm.covariances + (1 - math.exp(-t)) * torch.eye(3, dtype=F64))
    gd = gm.diffuse_discrete(0.3)
    torch.testing.assert_close(gd.means, math.sqrt(0.3) * gm.means)
    torch.testing.assert_close(gd.covariances, 0.3 * gm.covariances + 0.7 * torch.eye(3, dtype=F64))
    # the mixture's covariance is diffused the same way, and a large t gives N(0, I)
    torch.testing.assert_close(gt.covariance(), math.exp(-t) * gm.covariance() + (1 - math.exp(-t)) * torch.eye(3, dtype=F64))
    torch.testing.assert_close(gm.diffuse(40.0).covariance(), torch.eye(3, dtype=F64), atol=1e-12, rtol=0)


def test_diffuse_agrees_with_a_monte_carlo_of_the_ou_process() -> None:
    gm = ring_mixture()
    n, t = 8_000, 0.4
    g = torch.Generator().manual_seed(0)
    floor, _ = noise_floor(gm.diffuse(t).sample, n, repeats=5)
    x_t = ou_sample(gm.sample(n, g), t, g)
    swd = sliced_wasserstein(x_t, gm.diffuse(t).sample(n, g))
    # within 1.5× the noise floor of two exact samples of this size
    assert swd < 1.5 * floor, (swd, floor)
    # a wrong variant (means shrunk by e^{−t} instead of e^{−t/2}) is far outside it
    wrong = GaussianMixture(gm.weights, math.exp(-t) * gm.means,
                            math.exp(-t) * gm.covariances + (1 - math.exp(-t)) * torch.eye(2, dtype=F64))
    assert sliced_wasserstein(x_t, wrong.sample(n, g)) > 4 * floor


@pytest.mark.parametrize("index", range(6))
def test_score_fn_and_eps_fn_match_the_diffused_mixture(index: int) -> None:
    gm = all_targets()[index]
    g = torch.Generator().manual_seed(index)
    x = 3 * torch.randn(30, gm.dim, dtype=F64, generator=g)
    sf = gm.score_fn()
    for t in (0.0, 1e-3, 0.3, 2.0, 9.0):
        torch.testing.assert_close(sf(x, t), gm.diffuse(t).score(x), rtol=1e-9, atol=1e-10)
    tt = 2 * torch.rand(30, dtype=F64, generator=g)
    per_point = torch.stack([gm.diffuse(float(tt[j])).score(x[j]) for j in range(30)])
    torch.testing.assert_close(sf(x, tt), per_point, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(sf(x, torch.tensor(0.3)), sf(x, 0.3))
    sch = linear_schedule(50)
    eps = gm.eps_fn(sch)
    steps = torch.randint(1, 51, (30,), generator=g)
    ab = sch.alpha_bars
    ref = torch.stack([-torch.sqrt(1 - ab[k]) * gm.diffuse_discrete(float(ab[k])).score(x[j])
                       for j, k in enumerate(steps.tolist())])
    torch.testing.assert_close(eps(x, steps), ref, rtol=1e-9, atol=1e-10)
    torch.testing.assert_close(eps(x, 17), eps(x, torch.full((30,), 17)))


def test_eigen_path_agrees_with_the_isotropic_fast_path() -> None:
    gm = ring_mixture(k=5, std=0.4)
    general = ring_mixture(k=5, std=0.4)
    general._isotropic = False  # force the general (eigenbasis) formula
    x = 2 * torch.randn(50, 2, dtype=F64, generator=torch.Generator().manual_seed(0))
    tt = torch.rand(50, dtype=F64)
    for t in (0.0, 0.5, tt):
        torch.testing.assert_close(gm.score_fn()(x, t), general.score_fn()(x, t), rtol=1e-10, atol=1e-12)


def test_ready_made_targets() -> None:
    sep = separated_mixture()
    assert (sep.dim, sep.n_components) == (2, 2)
    torch.testing.assert_close(sep.weights, torch.tensor([0.3, 0.7], dtype=F64))
    ring = ring_mixture(k=6, radius=2.0, std=0.1)
    torch.testing.assert_close(ring.means.norm(dim=1), torch.full((6,), 2.0, dtype=F64))
    torch.testing.assert_close(ring.mean(), torch.zeros(2, dtype=F64), atol=1e-12, rtol=0)
    one = bimodal_1d()
    assert one.dim == 1 and one.sample(5).shape == (5, 1)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        ring_mixture(k=0)
    moved = ring.to(dtype=torch.float32)
    assert moved.dtype == torch.float32 and moved.score(torch.zeros(3, 2)).dtype == torch.float32


# -- behaviours pinned by the mutation review (tests/mutation/equivalent.md) ---------------
def test_sample_of_zero_points_is_empty_and_a_negative_count_names_n() -> None:
    gm = ring_mixture()
    x, labels = gm.sample(0, torch.Generator().manual_seed(0), return_labels=True)
    assert x.shape == (0, 2) and x.dtype == F64 and labels.shape == (0,) and labels.dtype == torch.long
    with pytest.raises(ValueError, match=r"\bn\b"):
        gm.sample(-1)


def test_score_of_a_list_is_the_score_of_the_tensor() -> None:
    gm = separated_mixture()
    torch.testing.assert_close(gm.score([[1.0, 0.5]]), gm.score(torch.tensor([[1.0, 0.5]], dtype=F64)),
                               rtol=0, atol=0)


def test_diffuse_discrete_takes_a_tensor_and_its_exact_bounds() -> None:
    gm = random_mixture(2, 2, 2)
    torch.testing.assert_close(gm.diffuse_discrete(torch.tensor(0.3, dtype=F64)).covariances,
                               gm.diffuse_discrete(0.3).covariances, rtol=0, atol=0)
    same = gm.diffuse_discrete(1.0)                     # ᾱ = 1: no noise yet, the mixture itself
    torch.testing.assert_close(same.means, gm.means, rtol=0, atol=0)
    torch.testing.assert_close(same.covariances, gm.covariances, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="alpha_bar"):
        gm.diffuse_discrete(1.5)


def test_diffused_and_ready_made_mixtures_keep_the_dtype_asked_for() -> None:
    f32 = torch.float32
    gm = random_mixture(3, 2, 2).to(dtype=f32)
    for m in (gm.diffuse(0.5), gm.diffuse_discrete(0.5), separated_mixture(dtype=f32), bimodal_1d(dtype=f32),
              ring_mixture(dtype=f32)):
        assert m.dtype == f32


def test_bimodal_1d_is_the_documented_target() -> None:
    one = bimodal_1d()
    torch.testing.assert_close(one.weights, torch.tensor([0.3, 0.7], dtype=F64))
    torch.testing.assert_close(one.means, torch.tensor([[-2.0], [2.0]], dtype=F64))
    torch.testing.assert_close(one.covariances, torch.tensor([[[0.25]], [[0.49]]], dtype=F64))


def test_score_fn_and_eps_fn_errors_name_the_argument() -> None:
    gm, sch = ring_mixture(), linear_schedule(10)
    x = torch.zeros(5, 2, dtype=F64)
    cases = [
        (lambda: gm.score_fn()(torch.zeros(5, 3), 0.1), "x"),
        (lambda: gm.eps_fn(sch)(torch.zeros(5, 3), 3), "x"),
        (lambda: gm.eps_fn(sch)(x, torch.zeros(5, dtype=torch.long)), "i"),
        (lambda: gm.diffuse(-1.0), "t"),
        (lambda: gm.score_fn()(x, -torch.ones(5, dtype=F64)), "t"),
        (lambda: gm.score_fn()(x, torch.ones(5, 1, dtype=F64)), "t"),          # (batch, 1) is not (batch,)
        (lambda: gm.score_fn()(x[0], torch.ones(2, dtype=F64)), "t"),          # per-sample t needs a batch
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            call()
    for call in (lambda: gm.score_fn()([["a", "b"]], 0.1), lambda: gm.eps_fn(sch)([["a", "b"]], 3)):
        with pytest.raises(TypeError, match=r"\bx\b"):
            call()


def test_per_sample_time_zero_is_the_data_score() -> None:
    gm = random_mixture(4, 3, 2)
    x = torch.randn(6, 2, dtype=F64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(gm.score_fn()(x, torch.zeros(6, dtype=F64)), gm.score(x), rtol=1e-12, atol=1e-12)


def test_scores_come_back_in_the_dtype_of_x_and_a_0_d_step_is_a_step() -> None:
    gm, sch = ring_mixture(), linear_schedule(50)
    x32 = torch.randn(7, 2, generator=torch.Generator().manual_seed(2))
    assert gm.score_fn()(x32, 0.3).dtype == torch.float32
    assert gm.score_fn()(x32, torch.full((7,), 0.3)).dtype == torch.float32
    x = x32.to(F64)
    eps = gm.eps_fn(sch)
    torch.testing.assert_close(eps(x, torch.tensor(17)), eps(x, 17), rtol=0, atol=0)


def test_float32_times_and_schedules_are_used_at_the_mixture_precision() -> None:
    """A float32 time or schedule is converted to the mixture's float64 before any arithmetic, so the
    per-sample paths agree with the scalar ones to float64 rounding (float32 arithmetic: ~1e-7)."""
    gm = random_mixture(5, 2, 2)                         # the general (eigenbasis) path
    iso = ring_mixture()                                 # the isotropic path
    x = 2 * torch.randn(6, 2, dtype=F64, generator=torch.Generator().manual_seed(3))
    tt = torch.tensor([0.05, 0.3, 0.7, 1.1, 2.0, 3.3], dtype=torch.float32)
    for m in (gm, iso):
        per_point = torch.stack([m.score_fn()(x[j:j + 1], float(tt[j]))[0] for j in range(6)])
        torch.testing.assert_close(m.score_fn()(x, tt), per_point, rtol=1e-12, atol=1e-13)
        sch = linear_schedule(50, dtype=torch.float32)
        steps = torch.tensor([3, 9, 17, 25, 40, 50])
        per_step = torch.stack([m.eps_fn(sch)(x[j:j + 1], int(steps[j]))[0] for j in range(6)])
        torch.testing.assert_close(m.eps_fn(sch)(x, steps), per_step, rtol=1e-12, atol=1e-13)


def test_scores_of_lists_and_integer_tensors_are_float64() -> None:
    gm, sch = ring_mixture(), linear_schedule(10)
    ref = gm.score_fn()(torch.tensor([[1.0, 2.0]], dtype=F64), 0.3)
    for x in ([[1.0, 2.0]], torch.tensor([[1, 2]])):
        s = gm.score_fn()(x, 0.3)
        assert s.dtype == F64
        torch.testing.assert_close(s, ref, rtol=0, atol=0)
        assert gm.eps_fn(sch)(x, 3).dtype == F64
    assert gm.eps_fn(sch)(torch.zeros(3, 2), 3).dtype == torch.float32


def test_eps_fn_per_sample_steps_need_a_matching_batch() -> None:
    gm, sch = ring_mixture(), linear_schedule(50)
    x = torch.randn(5, 2, dtype=F64, generator=torch.Generator().manual_seed(4))
    eps = gm.eps_fn(sch)
    torch.testing.assert_close(eps(x[:1], torch.tensor([17])), eps(x[:1], 17), rtol=0, atol=0)
    for bad in (lambda: eps(x[0], torch.tensor([3, 3])),                 # x has no batch dimension
                lambda: eps(x, torch.full((5, 1), 3))):                   # steps (5, 1), not (5,)
        with pytest.raises(ValueError, match="per-sample steps"):
            bad()
    with pytest.raises(ValueError, match=r"\bi\b"):
        eps(x, 0)


def test_ring_mixture_defaults_and_argument_names() -> None:
    ring = ring_mixture()
    assert ring.n_components == 8
    torch.testing.assert_close(ring.means.norm(dim=1), torch.full((8,), 3.0, dtype=F64))
    torch.testing.assert_close(ring.covariances, 0.09 * torch.eye(2, dtype=F64).expand(8, 2, 2))
    for call, name in ((lambda: ring_mixture(radius=-1.0), "radius"), (lambda: ring_mixture(std=0.0), "std"),
                       (lambda: ring.score(torch.ones(2, 2, dtype=torch.complex128)), "x")):
        with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
            call()


def test_python_numbers_go_straight_to_float64() -> None:
    """Lists and floats are converted to the mixture's dtype directly, never through float32."""
    gm = GaussianMixture.isotropic([0.5, 0.5], [[0.1, 0.2], [-0.3, 0.7]], 0.3)
    assert gm.means[0, 0].item() == 0.1 and gm.means[1, 1].item() == 0.7
    assert gm.covariances[0, 0, 0].item() == (torch.tensor(0.3, dtype=F64) ** 2).item()
    full = GaussianMixture([1.0], [[0.1]], [[[0.3]]])
    assert full.means.item() == 0.1 and full.covariances.item() == 0.3


def test_symmetry_is_judged_at_each_components_own_scale() -> None:
    """A covariance symmetric to relative 1e-10 passes at any scale (and tiny ones pass); an asymmetry of
    relative 1e-6 in a unit-scale component is refused even next to a component of scale 1e4."""
    big = torch.tensor([[1e4, 1.0], [1.0 + 1e-6, 1e4]], dtype=F64)
    gm = GaussianMixture([1.0], [[0.0, 0.0]], big[None])
    torch.testing.assert_close(gm.covariances[0], (big + big.T) / 2, rtol=0, atol=0)
    tiny = GaussianMixture.isotropic([1.0], [[0.0, 0.0]], 1e-3)
    assert tiny.covariances[0, 0, 0].item() == pytest.approx(1e-6, rel=1e-12)
    skew = torch.tensor([[1.0, 0.1], [0.1 + 1e-6, 1.0]], dtype=F64)
    with pytest.raises(ValueError, match="symmetric"):
        GaussianMixture([0.5, 0.5], torch.zeros(2, 2), torch.stack([1e4 * torch.eye(2, dtype=F64), skew]))


def test_constructor_errors_name_the_argument() -> None:
    mu, eye = torch.zeros(2, 2), torch.eye(2).expand(2, 2, 2)
    nan_mu = torch.tensor([[0.0, float("nan")], [0.0, 0.0]])
    cases = [
        (lambda: GaussianMixture([0.5, 0.5], torch.ones(2, 2, dtype=torch.complex128), eye), TypeError, "means"),
        (lambda: GaussianMixture([0.5, 0.5], nan_mu, eye), ValueError, "means"),
        (lambda: GaussianMixture([0.5, 0.5], mu, torch.ones(2, 2, 2, dtype=torch.complex128)), TypeError, "covariances"),
        (lambda: GaussianMixture([0.5, 0.5], mu, eye * float("nan")), ValueError, "covariances"),
        (lambda: GaussianMixture([[0.5, 0.5]], mu, eye), ValueError, "weights"),                 # not 1-D
        (lambda: GaussianMixture([0.0, 1.0], mu, eye), ValueError, "weights must all be positive"),
        (lambda: GaussianMixture([0.5, 0.5], mu, eye, dtype=torch.int64), TypeError, "dtype"),
        (lambda: GaussianMixture.isotropic([0.5, 0.5], "ab", 0.5), TypeError, "means"),
        (lambda: GaussianMixture.isotropic([0.5, 0.5], mu, "ab"), TypeError, "stds"),
        (lambda: GaussianMixture.isotropic([0.5, 0.5], mu, 0.0), ValueError, "stds must be positive"),
        (lambda: GaussianMixture.isotropic([0.5, 0.6], mu, 0.5), ValueError, "weights must sum to 1"),
    ]
    for call, kind, pattern in cases:
        with pytest.raises(kind, match=rf"\b{pattern}\b"):
            call()
    gm = GaussianMixture.isotropic([1.0, 3.0], mu, 0.5, normalize=True)
    torch.testing.assert_close(gm.weights, torch.tensor([0.25, 0.75], dtype=F64), rtol=0, atol=0)
