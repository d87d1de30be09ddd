"""Schedules: the arrays, their indexing convention, and bad input."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ddpm_lib import Schedule, cosine_schedule, linear_schedule

betas_strategy = st.lists(st.floats(min_value=1e-5, max_value=0.5), min_size=1, max_size=200)


@settings(max_examples=60, deadline=None)
@given(betas_strategy)
def test_alpha_bar_strictly_decreasing_in_unit_interval(betas):
    ab = Schedule(torch.tensor(betas)).alpha_bars
    assert ab[0] == 1
    assert bool((ab[1:] > 0).all()) and bool((ab[1:] < 1).all())
    assert bool((ab[1:] < ab[:-1]).all())


@settings(max_examples=60, deadline=None)
@given(betas_strategy)
def test_posterior_variance_at_most_beta(betas):
    s = Schedule(torch.tensor(betas))
    bt = s.posterior_variances
    assert bt[1] == 0
    assert bool((bt[1:] <= s.betas[1:] * (1 + 1e-12)).all())
    assert bool((bt[1:] >= 0).all())


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=3000), st.floats(min_value=1e-4, max_value=0.1),
       st.floats(min_value=0.5, max_value=0.9999))
def test_cosine_clipping(n, s, max_beta):
    sch = cosine_schedule(n, s=s, max_beta=max_beta)
    assert sch.n == n
    assert bool((sch.betas[1:] <= max_beta).all())
    assert bool((sch.betas[1:] > 0).all())


def test_indexing_convention():
    s = Schedule(torch.tensor([0.1, 0.2, 0.3]))
    assert s.n == 3
    assert s.betas.tolist() == pytest.approx([0, 0.1, 0.2, 0.3])
    assert s.alphas.tolist() == pytest.approx([1, 0.9, 0.8, 0.7])
    assert s.alpha_bars.tolist() == pytest.approx([1, 0.9, 0.72, 0.504])
    assert s.times.tolist() == pytest.approx([0, 0.1, 0.3, 0.6])
    # β̃_2 = (1 − ᾱ_1)/(1 − ᾱ_2) β_2
    assert float(s.posterior_variances[2]) == pytest.approx(0.1 / 0.28 * 0.2)


def test_times_read_beta_as_step_size():
    s = linear_schedule(1000)
    # ᾱ_i ≈ e^{−t_i}: the gap is second order in β
    gap = (torch.log(s.alpha_bars) + s.times).abs()
    bound = torch.cumsum(s.betas ** 2 / (2 * (1 - s.betas)), 0)
    assert bool((gap <= bound + 1e-15).all())
    # on the linear scale the gap stays below 1e-3 (ᾱ itself is tiny where log-gaps accumulate)
    assert float((s.alpha_bars - torch.exp(-s.times)).abs().max()) < 1e-3


def test_linear_schedule_endpoints():
    s = linear_schedule(10, 0.01, 0.1)
    assert float(s.betas[1]) == pytest.approx(0.01) and float(s.betas[10]) == pytest.approx(0.1)
    assert linear_schedule(1).n == 1


def test_cosine_matches_formula():
    n, s_ = 100, 0.008
    sch = cosine_schedule(n, s=s_, max_beta=0.999)
    f = lambda u: math.cos((u + s_) / (1 + s_) * math.pi / 2) ** 2
    for i in (1, 10, 50, 90):
        assert float(sch.alpha_bars[i]) == pytest.approx(f(i / n) / f(0), rel=1e-9)


def test_to_dtype():
    s = linear_schedule(5).to(dtype=torch.float32)
    assert s.betas.dtype == torch.float32 and s.n == 5


@pytest.mark.parametrize("betas, msg", [
    ([0.1, 1.0], r"open interval \(0, 1\)"),
    ([0.0, 0.1], r"open interval \(0, 1\)"),
    ([-0.1], r"open interval \(0, 1\)"),
    ([float("nan")], "finite"),
    ([], "n >= 1"),
    ([[0.1, 0.2]], "1-D"),
])
def test_bad_betas(betas, msg):
    with pytest.raises(ValueError, match=msg):
        Schedule(torch.tensor(betas))


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        linear_schedule(0)
    with pytest.raises(TypeError, match="n must be an integer"):
        linear_schedule(2.5)
    with pytest.raises(ValueError, match="beta_end must lie in"):
        linear_schedule(10, 1e-4, 1.5)
    with pytest.raises(ValueError, match="max_beta must lie in"):
        cosine_schedule(10, max_beta=1.0)
    with pytest.raises(ValueError, match="s must be a finite number > 0"):
        cosine_schedule(10, s=-1)
    with pytest.raises(TypeError, match="betas must hold real numbers"):
        Schedule(torch.tensor([True]))


def test_check_step():
    s = linear_schedule(10)
    assert s.check_step(3).item() == 3
    with pytest.raises(ValueError, match=r"\[1, 10\]"):
        s.check_step(0)
    with pytest.raises(ValueError, match=r"\[1, 10\]"):
        s.check_step(torch.tensor([1, 11]))
    with pytest.raises(TypeError, match="integer step index"):
        s.check_step(1.5)


def test_scaled_linear_schedule_reaches_the_same_time_for_every_n():
    from ddpm_lib import scaled_linear_schedule

    for n in (25, 100, 1000):
        s = scaled_linear_schedule(n)
        assert float(s.times[-1]) == pytest.approx(10.05, rel=1e-9)
    assert bool((scaled_linear_schedule(5).betas[1:] < 1).all())  # capped below 1 for tiny n
    assert torch.allclose(scaled_linear_schedule(1000).betas, linear_schedule(1000).betas)


def test_respace_keeps_the_noise_levels():
    s = linear_schedule(1000)
    sub, taus = s.respace(20)
    assert sub.n == 20 and taus[0] == 0 and taus[-1] == 1000
    assert torch.allclose(sub.alpha_bars, s.alpha_bars[taus], rtol=1e-12)
    same, taus_all = s.respace(1000)
    assert torch.allclose(same.betas, s.betas) and torch.equal(taus_all, torch.arange(1001))
    with pytest.raises(ValueError, match="at most the schedule's n = 1000"):
        s.respace(1001)


def test_bad_schedule_inputs_raise_clear_errors():
    from ddpm_lib.schedules import cosine_alpha_bar

    with pytest.raises(ValueError, match="beta_start must be <= beta_end"):
        linear_schedule(10, 0.02, 0.01)
    with pytest.raises(ValueError, match=r"u = i/n must lie in \[0, 1\], got NaN"):
        cosine_alpha_bar(float("nan"))
    with pytest.raises(ValueError, match=r"u = i/n must lie in \[0, 1\]"):
        cosine_alpha_bar(-0.5)
    with pytest.raises(ValueError, match=r"u = i/n must lie in \[0, 1\]"):
        cosine_alpha_bar(torch.tensor([0.0, 1.5]))
    assert float(cosine_alpha_bar(0.0)) == pytest.approx(1.0)
