"""Tests of ddpm_lib.evaluation.irreducible_loss from the mutation review (issue #14): the Monte Carlo
draws it makes and the mean and standard error it reports, checked through a spy mixture.

``eps_error_by_step`` and the value of ``irreducible_loss`` for N(0, I) are tested in test_training.py.
"""
import math

import pytest
import torch

from ddpm_lib.evaluation import irreducible_loss
from ddpm_lib.schedules import linear_schedule

SCHED = linear_schedule(50, beta_start=1e-3, beta_end=0.2)


class _SpyMixture:
    """A stand-in mixture at the point x_0 = 0 in 2-D whose ε-model predicts 0 and records what it sees.

    With x_0 = 0 the noisy point is x_i = √(1−ᾱ_i) ε, so the model can recover the DSM noise ε of each
    draw and the test can form each draw's loss ``mean_j ε_j²`` (the loss of the prediction 0) itself.
    """

    def __init__(self, schedule):
        self.sizes, self.generators, self.dtypes, self.losses = [], [], [], []
        self.alpha_bars = schedule.alpha_bars

    def sample(self, n, generator=None):
        self.sizes.append(n)
        self.generators.append(generator)
        return torch.zeros(n, 2, dtype=torch.float32)

    def eps_fn(self, schedule):
        def eps(x, i):
            self.dtypes.append(x.dtype)
            noise = x / (1 - self.alpha_bars[i])[:, None].sqrt()
            self.losses.append((noise ** 2).mean(dim=1))
            return torch.zeros_like(x)
        return eps


def test_irreducible_loss_averages_n_mc_draws_in_chunks():
    """7 draws in chunks of 3 are 3 + 3 + 1 draws of x_0 (with the caller's generator, in float64); the
    result is the mean of the 7 per-draw losses and its standard error std/√7."""
    spy = _SpyMixture(SCHED)
    g = torch.Generator().manual_seed(0)
    mean, se = irreducible_loss(spy, SCHED, n_mc=7, generator=g, chunk=3)
    assert spy.sizes == [3, 3, 1] and all(s is g for s in spy.generators)
    assert spy.dtypes == [torch.float64] * 3
    v = torch.cat(spy.losses)
    assert v.shape == (7,)
    assert math.isclose(mean, float(v.mean()), rel_tol=1e-12)
    assert math.isclose(se, float(v.std()) / math.sqrt(7), rel_tol=1e-12)


def test_irreducible_loss_defaults_are_200000_draws_in_chunks_of_50000():
    spy = _SpyMixture(SCHED)
    irreducible_loss(spy, SCHED, generator=torch.Generator().manual_seed(0))
    assert spy.sizes == [50_000] * 4


def test_irreducible_loss_draws_everything_from_its_generator():
    """The same seed gives the same result, and torch's global generator is not touched."""
    torch.manual_seed(123)
    untouched = torch.rand(1)
    torch.manual_seed(123)
    a = irreducible_loss(_SpyMixture(SCHED), SCHED, n_mc=5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(torch.rand(1), untouched)
    b = irreducible_loss(_SpyMixture(SCHED), SCHED, n_mc=5, generator=torch.Generator().manual_seed(4))
    assert a == b


def test_irreducible_loss_bounds_and_argument_names():
    """Two draws are the fewest with a standard error; a chunk must hold at least one draw."""
    spy = _SpyMixture(SCHED)
    irreducible_loss(spy, SCHED, n_mc=2, generator=torch.Generator().manual_seed(0))
    assert spy.sizes == [2]
    with pytest.raises(ValueError, match="^n_mc must be an integer >= 2, got 1$"):
        irreducible_loss(_SpyMixture(SCHED), SCHED, n_mc=1)
    with pytest.raises(ValueError, match="^chunk must be an integer >= 1, got 0$"):
        irreducible_loss(_SpyMixture(SCHED), SCHED, n_mc=4, chunk=0)
