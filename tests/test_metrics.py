"""Tests of ddpm_lib.metrics: sliced Wasserstein, MMD and the noise floor."""
from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import wasserstein_distance

from ddpm_lib import metrics
from ddpm_lib.metrics import mmd_rbf, noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import ring_mixture

F64 = torch.float64


def pts(n: int, d: int = 2, seed: int = 0, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, dtype=F64, generator=torch.Generator().manual_seed(seed)) + shift



@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 60), m=st.integers(1, 60), seed=st.integers(0, 1000))
def test_sliced_wasserstein_in_1d_is_the_exact_w1(n: int, m: int, seed: int) -> None:
    """In 1-D every direction is ±1, so SW1 is W1 itself (scipy computes it independently)."""
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(n, 1, dtype=F64, generator=g), 2 * torch.rand(m, 1, dtype=F64, generator=g)
    ref = wasserstein_distance(x[:, 0].numpy(), y[:, 0].numpy())
    assert sliced_wasserstein(x, y, n_projections=4) == pytest.approx(ref, rel=1e-10, abs=1e-12)


def test_sliced_wasserstein_basic_properties() -> None:
    x = pts(500)
    assert sliced_wasserstein(x, x) == 0.0
    assert sliced_wasserstein(x, pts(500, seed=1)) == sliced_wasserstein(x, pts(500, seed=1))  # deterministic
    # a shift c: SW1 = E_θ |θ·c|, for a uniform direction in 2-D = 2|c|/π
    c = torch.tensor([3.0, 0.0], dtype=F64)
    assert sliced_wasserstein(x, x + c, n_projections=4000) == pytest.approx(2 * 3 / np.pi, rel=0.02)
    # symmetric, and the unequal-size path agrees with the equal-size one on duplicated points
    y = pts(500, seed=2)
    assert sliced_wasserstein(x, y) == pytest.approx(sliced_wasserstein(y, x), rel=1e-12)
    assert sliced_wasserstein(x, torch.cat([y, y])) == pytest.approx(sliced_wasserstein(x, y), rel=1e-12)
    other = sliced_wasserstein(x, y, generator=torch.Generator().manual_seed(5))
    assert other != sliced_wasserstein(x, y) and other == pytest.approx(sliced_wasserstein(x, y), rel=0.2)


def test_sliced_wasserstein_is_fast_for_10k_points() -> None:
    x, y = pts(10_000), pts(10_000, seed=1)
    sliced_wasserstein(x, y)
    t0 = time.perf_counter()
    sliced_wasserstein(x, y)
    assert time.perf_counter() - t0 < 1.0  # typically ~0.1 s on one thread
    sliced_wasserstein(x, y[:7_000])  # unequal sizes run too


def test_mmd_matches_a_direct_computation_and_separates_laws() -> None:
    x, y = pts(40), pts(30, seed=1, shift=0.5)
    bw = 1.3
    k = lambda a, b: torch.exp(-torch.cdist(a, b) ** 2 / (2 * bw * bw))  # noqa: E731
    kxx, kyy = k(x, x), k(y, y)
    direct = ((kxx.sum() - kxx.trace()) / (40 * 39) + (kyy.sum() - kyy.trace()) / (30 * 29) - 2 * k(x, y).mean())
    assert mmd_rbf(x, y, bandwidth=bw) == pytest.approx(float(direct), rel=1e-10)
    # chunking does not change the value
    assert metrics._kernel_sum(x, y, 0.3, chunk=7) == pytest.approx(metrics._kernel_sum(x, y, 0.3, chunk=1000),
                                                                   rel=1e-12)
    same = mmd_rbf(pts(2000, seed=3), pts(2000, seed=4))
    shifted = mmd_rbf(pts(2000, seed=3), pts(2000, seed=4, shift=0.3))
    assert abs(same) < 2e-3 and shifted > 10 * abs(same)


def test_noise_floor_is_deterministic_and_shrinks_with_n() -> None:
    gm = ring_mixture()
    a = noise_floor(gm.sample, 2000)
    assert a == noise_floor(gm.sample, 2000)
    assert a[1] >= 0
    big = noise_floor(gm.sample, 8000)
    assert big[0] < a[0]
    m, s = noise_floor(gm.sample, 500, metric=mmd_rbf, repeats=3)
    assert abs(m) < 0.02 and s >= 0


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="same dimension d"):
        sliced_wasserstein(pts(5, 2), pts(5, 3))
    with pytest.raises(ValueError, match="x must be finite"):
        sliced_wasserstein(torch.full((3, 2), float("nan")), pts(3))
    with pytest.raises(ValueError, match=r"y must have shape \(n, d\)"):
        sliced_wasserstein(pts(3), torch.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="n_projections must be an integer >= 1"):
        sliced_wasserstein(pts(3), pts(3), n_projections=0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        sliced_wasserstein(pts(3), pts(3), generator=1)
    with pytest.raises(ValueError, match="at least 2 points"):
        mmd_rbf(pts(1), pts(3))
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0"):
        mmd_rbf(pts(3), pts(3), bandwidth=-1.0)
    with pytest.raises(TypeError, match="sample and metric must be callables"):
        noise_floor(3, 10)
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        noise_floor(ring_mixture().sample, 10, repeats=0)


def test_sliced_wasserstein_in_blocks_of_projections_is_the_same(monkeypatch) -> None:
    """Projecting in blocks (memory) gives the one-block value, for equal and unequal sizes, any block split."""
    x, y = pts(50), pts(40, seed=1, shift=0.3)
    whole = (sliced_wasserstein(x, y[:50 - 10]), sliced_wasserstein(x, pts(50, seed=2)))
    monkeypatch.setattr(metrics, "SWD_BLOCK_ENTRIES", 7 * 50)  # blocks of 7 directions: 256 = 36 * 7 + 4
    assert sliced_wasserstein(x, y[:40]) == pytest.approx(whole[0], rel=1e-12)
    assert sliced_wasserstein(x, pts(50, seed=2)) == pytest.approx(whole[1], rel=1e-12)
    monkeypatch.setattr(metrics, "SWD_BLOCK_ENTRIES", 1)  # one direction at a time
    assert sliced_wasserstein(x, pts(50, seed=2)) == pytest.approx(whole[1], rel=1e-12)


# -- tests from the mutation review of metrics.py (issue #14) ---------------------------------------------------
def test_sliced_wasserstein_averages_w1_over_the_generators_float64_directions() -> None:
    """The directions are the generator's float64 normal draws ``(P, d)``, normalised; SW1 is the mean
    over them of the exact 1-D W1 of the projections (scipy), here for n ≠ m."""
    x, y = pts(30, d=3), pts(17, d=3, seed=1, shift=0.4)
    theta = torch.randn((8, 3), generator=torch.Generator().manual_seed(9), dtype=F64)
    theta = theta / theta.norm(dim=1, keepdim=True)
    want = np.mean([wasserstein_distance((x @ t).numpy(), (y @ t).numpy()) for t in theta])
    got = sliced_wasserstein(x, y, n_projections=8, generator=torch.Generator().manual_seed(9))
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")
def test_sliced_wasserstein_of_float32_and_grad_tracking_points() -> None:
    """float32 points project on the same directions (rounded to float32), and points that track
    gradients are measured too: the values agree with the float64 ones."""
    x, y = pts(40), pts(40, seed=1, shift=0.3)
    ref = sliced_wasserstein(x, y)
    assert sliced_wasserstein(x.float(), y.float()) == pytest.approx(ref, rel=1e-5)
    assert sliced_wasserstein(x.clone().requires_grad_(), y) == pytest.approx(ref, rel=1e-12)


def test_noise_floor_draws_with_the_generator_and_reports_the_sample_std() -> None:
    """``repeats`` (default 5) pairs of draws ``sample(n, generator)`` with the caller's generator; the std
    has ``repeats − 1`` degrees of freedom (``statistics.stdev``), and is 0 for one repeat."""
    import statistics

    g = torch.Generator().manual_seed(3)
    calls = []

    def sample(n, gen):
        calls.append((n, gen))
        return torch.zeros(n, 1)

    for repeats, values in ((3, [1.0, 2.0, 4.0]), (2, [1.0, 3.0]), (1, [5.0])):
        it = iter(values)
        mean, std = noise_floor(sample, 4, metric=lambda a, b: next(it), repeats=repeats, generator=g)
        assert mean == pytest.approx(statistics.mean(values), rel=1e-15)
        assert std == (pytest.approx(statistics.stdev(values), rel=1e-15) if repeats > 1 else 0.0)
    assert len(calls) == 2 * (3 + 2 + 1) and all(c == (4, g) for c in calls)
    calls.clear()
    noise_floor(sample, 2, metric=lambda a, b: 0.0)
    assert len(calls) == 2 * 5


def test_noise_floor_argument_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="^n must be an integer >= 1, got 0$"):
        noise_floor(ring_mixture().sample, 0)
    with pytest.raises(TypeError, match="^generator must be a torch.Generator or None, got int$"):
        noise_floor(ring_mixture().sample, 10, generator=1)


def _lower_median_pairwise(p: np.ndarray) -> float:
    """The lower median (torch's convention) of the distances between distinct points of ``p`` (scipy)."""
    from scipy.spatial.distance import pdist
    d = np.sort(pdist(p))
    return float(d[(len(d) - 1) // 2])


def test_median_bandwidth_is_the_median_distance_of_an_evenly_spaced_subset() -> None:
    """Up to 1,000 pooled points: the median of all pairwise distances (of distinct points); above: of the
    1,000 points at the rounded positions ``linspace(0, N − 1, 1000)`` of the pooled sample."""
    x, y = pts(4, seed=5) * 0.2, pts(3, seed=6) * 0.2  # a median below 1
    want = _lower_median_pairwise(torch.cat([x, y]).numpy())
    assert want < 1 and metrics._median_bandwidth(x, y) == pytest.approx(want, rel=1e-12)
    x, y = pts(600, seed=7), pts(401, seed=8)  # 1,001 pooled points
    idx = np.round(np.linspace(0, 1000, 1000)).astype(int)
    want = _lower_median_pairwise(torch.cat([x, y]).numpy()[idx])
    assert metrics._median_bandwidth(x, y) == pytest.approx(want, rel=1e-12)
    assert want != _lower_median_pairwise(torch.cat([x, y]).numpy())  # the subset matters here


def test_mmd_bandwidth_falls_back_to_1_when_the_median_distance_is_0() -> None:
    """Most points equal: the median distance is 0 and the bandwidth is 1; two points per sample suffice."""
    x, y = torch.zeros(6, 1, dtype=F64), torch.tensor([[0.0], [0.0], [0.0], [0.0], [1.0], [2.0]], dtype=F64)
    assert mmd_rbf(x, y) == mmd_rbf(x, y, bandwidth=1.0) != mmd_rbf(x, y, bandwidth=2.0)
    assert mmd_rbf(x, x) == 0.0
    a, b = pts(2), pts(2, seed=1)
    assert mmd_rbf(a, b, bandwidth=1.0) == pytest.approx(float(
        torch.exp(-torch.cdist(a, a) ** 2 / 2)[0, 1] + torch.exp(-torch.cdist(b, b) ** 2 / 2)[0, 1]
        - 2 * torch.exp(-torch.cdist(a, b) ** 2 / 2).mean()), rel=1e-12)


def test_metrics_take_mixed_dtypes_and_name_bad_points() -> None:
    """float32 and float64 samples are compared at float64; the default is 256 directions; errors name
    the argument (and the type of a bad generator)."""
    x, y = pts(20), pts(20, seed=1)
    assert sliced_wasserstein(x.float(), y) == pytest.approx(sliced_wasserstein(x.float().double(), y), rel=1e-12)
    assert sliced_wasserstein(x, y.float()) == pytest.approx(sliced_wasserstein(x, y.float().double()), rel=1e-12)
    assert sliced_wasserstein(x, y) == sliced_wasserstein(x, y, n_projections=256)
    with pytest.raises(TypeError, match="^x must be a tensor or array-like of numbers"):
        sliced_wasserstein("points", y)
    with pytest.raises(ValueError, match=r"^x must have shape \(n, d\) with n >= 1 points, got \(0, 2\)$"):
        sliced_wasserstein(torch.zeros(0, 2), y)
    with pytest.raises(TypeError, match="^generator must be a torch.Generator or None, got int$"):
        sliced_wasserstein(x, y, generator=1)
