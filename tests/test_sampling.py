"""Tests of ddpm_lib.sampling.sample: the sampler registry, its few-step default and its argument checks."""
from __future__ import annotations

import pytest
import torch

from ddpm_lib import EpsMLP, TinyUNet, linear_schedule
from ddpm_lib.metrics import sliced_wasserstein
from ddpm_lib.mixtures import ring_mixture
from ddpm_lib.samplers import dpm_solver_2m
from ddpm_lib.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, SAMPLERS, sample

SCHED = linear_schedule(100)


class ExactEps(torch.nn.Module):
    """The exact ε* of a mixture as a module (a float64 'model' with one dummy parameter)."""

    def __init__(self, gm, schedule, n_steps=None):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        self.eps, self.calls = gm.eps_fn(schedule), 0
        if n_steps is not None:
            self.n_steps = n_steps

    def forward(self, x, i):
        self.calls += 1
        return self.eps(x, i)


def test_the_default_is_the_few_step_dpm_solver():
    assert DEFAULT_SAMPLER == "dpm++2m" and set(SAMPLERS) == {"dpm++2m-sde", "dpm++2m", "ancestral", "ddim"}
    gm = ring_mixture()
    sch = linear_schedule(1000)
    model = ExactEps(gm, sch, n_steps=1000)
    fast, slow = [], []
    for r in range(3):  # one SWD at 4,000 points scatters by ~25 %: the mean of 3 paired runs (seeds fixed)
        data = gm.sample(4000, torch.Generator().manual_seed(100 + r))
        model.calls = 0
        x = sample(model, sch, 4000, (2,), generator=torch.Generator().manual_seed(r))
        assert model.calls == DEFAULT_STEPS <= 25
        ref = sample(model, sch, 4000, (2,), generator=torch.Generator().manual_seed(r), sampler="ancestral")
        fast.append(sliced_wasserstein(x, data, generator=torch.Generator().manual_seed(200 + r)))
        slow.append(sliced_wasserstein(ref, data, generator=torch.Generator().manual_seed(200 + r)))
    # a smoke test with a wide margin; benchmarks/samplers.py measures the 10 % criterion over more runs
    assert sum(fast) < 1.5 * sum(slow), (fast, slow)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_registered_sampler_runs_and_is_reproducible(sampler):
    m = EpsMLP(width=16, depth=1, n_steps=100)
    steps = 10
    x = sample(m, SCHED, 50, (2,), generator=torch.Generator().manual_seed(0), sampler=sampler, steps=steps)
    assert x.shape == (50, 2) and x.dtype == torch.float32 and torch.isfinite(x).all()
    y = sample(m, SCHED, 50, (2,), generator=torch.Generator().manual_seed(0), sampler=sampler, steps=steps)
    assert torch.equal(x, y)


def test_bad_arguments_raise_one_clear_error():
    m = EpsMLP(width=16, depth=1, n_steps=100)
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(m, SCHED, 5, (2,), sampler="euler")
    with pytest.raises(ValueError, match=r"shape must be \(2,\) for this model, got \(3,\)"):
        sample(m, SCHED, 5, (3,))
    with pytest.raises(ValueError, match=r"shape must be \(1, 8, 8\)"):
        sample(TinyUNet(channels=1, image_size=8, n_steps=100), SCHED, 2, (2,))
    with pytest.raises(ValueError, match="the schedule has n = 200 steps but the model was built for n_steps = 100"):
        sample(m, linear_schedule(200), 5, (2,))
    with pytest.raises(ValueError, match="at most the schedule's n = 100"):
        sample(m, SCHED, 5, (2,), sampler="ancestral", steps=101)
    with pytest.raises(TypeError, match="schedule must be a ddpm_lib.Schedule"):
        sample(m, [0.1], 5, (2,))
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        sample(m, SCHED, 0, (2,))


def test_the_default_is_the_deterministic_dpm_solver_from_the_generators_start():
    # issue 16: sample()'s default is DPM-Solver++(2M) on the probability-flow ODE, 25 calls; its only
    # randomness is the start x_n drawn from the generator
    m = EpsMLP(width=16, depth=1, n_steps=100)
    x = sample(m, SCHED, 64, (2,), generator=torch.Generator().manual_seed(3))
    x_n = torch.randn(64, 2, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        want = dpm_solver_2m(m, x_n, SCHED.to(dtype=torch.float64), steps=DEFAULT_STEPS)
    torch.testing.assert_close(x, want)
    sde = sample(m, SCHED, 64, (2,), generator=torch.Generator().manual_seed(3), sampler="dpm++2m-sde")
    assert not torch.allclose(x, sde)  # the stochastic form is a different sampler
