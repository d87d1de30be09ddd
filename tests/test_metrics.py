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
