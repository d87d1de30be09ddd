"""Tests of ddpm_lib.sampling.sample: the sampler registry, its few-step default and its argument checks."""
from __future__ import annotations

import pytest
import torch

from ddpm_lib import EpsMLP, TinyUNet, linear_schedule
from ddpm_lib.metrics import sliced_wasserstein
from ddpm_lib.mixtures import ring_mixture
from ddpm_lib.samplers import dpm_solver_2m
from ddpm_lib.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, SAMPLERS, SDE_ETA, sample

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
    assert DEFAULT_SAMPLER == "dpm++2m-sde" and set(SAMPLERS) == {"dpm++2m-sde", "dpm++2m", "ancestral", "ddim"}
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


def test_the_default_is_the_stochastic_dpm_solver_drawing_from_the_generator():
    # issue 16: sample()'s default is DPM-Solver++(2M) with noise eta = SDE_ETA = 0.25, 25 calls
    # (benchmarks/sampler_eta.py); the generator draws the start x_n, then the sampler's noise
    assert SDE_ETA == 0.25
    m = EpsMLP(width=16, depth=1, n_steps=100)
    x = sample(m, SCHED, 64, (2,), generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    x_n = torch.randn(64, 2, generator=g)
    with torch.no_grad():
        want = dpm_solver_2m(m, x_n, SCHED.to(dtype=torch.float64), steps=DEFAULT_STEPS, eta=SDE_ETA, generator=g)
        ode = dpm_solver_2m(m, x_n, SCHED.to(dtype=torch.float64), steps=DEFAULT_STEPS)
    torch.testing.assert_close(x, want)
    assert not torch.allclose(x, ode)  # the noise is really there
    det = sample(m, SCHED, 64, (2,), generator=torch.Generator().manual_seed(3), sampler="dpm++2m")
    torch.testing.assert_close(det, ode)  # "dpm++2m" is the deterministic form


# -- behaviours pinned by the mutation review of sampling.py ---------------------------------
F64 = torch.float64


class Probe(torch.nn.Module):
    """A float64 ε-'model' with neither ``n_steps`` nor ``dim``: ε(x, i) = tanh(w x) i / 100.
    It records the steps it is called with, its training mode at each call, and whether grad was on."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor(0.7, dtype=F64))
        self.steps, self.modes, self.grad = [], [], []

    def forward(self, x, i):
        self.steps.append(i.tolist())
        self.modes.append(self.training)
        self.grad.append(torch.is_grad_enabled())
        return torch.tanh(self.w * x) * i.to(x.dtype).view(-1, *[1] * (x.dim() - 1)) / 100


def _direct(run, seed: int, shape=(2,)) -> tuple[torch.Tensor, list]:
    """What ``sample`` must give: x_n the first float64 draw of the seeded generator, then ``run`` with it;
    and the steps ε was called with."""
    g = torch.Generator().manual_seed(seed)
    x_n = torch.randn((6,) + shape, generator=g, dtype=F64)
    model = Probe()
    with torch.no_grad():
        return run(model, x_n, g), model.steps


def test_sample_runs_the_named_sampler_with_its_documented_options():
    """Each name against its sampler called directly, from the same start: "dpm++2m" 25 steps (η = 0; on this
    100-step schedule the log-SNR spacing merges them to 21 distinct ones),
    "dpm++2m-sde" η = 0.25, "ddim" all n steps, "ancestral" all n steps or ``steps`` respaced ones (ε at the
    original steps τ_j), with the variance asked for. A float32 schedule is used in float64."""
    from ddpm_lib import Schedule
    from ddpm_lib.samplers import ddim, ddpm_ancestral, on_original_steps

    sch32 = linear_schedule(100, dtype=torch.float32)
    s64 = Schedule(sch32.betas[1:].to(F64))
    sub, taus = s64.respace(10)
    cases = [
        ("dpm++2m", None, "beta", lambda m, x, g: dpm_solver_2m(m, x, s64, steps=25), 21),
        ("dpm++2m", 7, "beta", lambda m, x, g: dpm_solver_2m(m, x, s64, steps=7), 7),
        ("dpm++2m-sde", None, "beta",
         lambda m, x, g: dpm_solver_2m(m, x, s64, generator=g, steps=25, eta=0.25), 21),
        ("ddim", None, "beta", lambda m, x, g: ddim(m, x, s64), 100),
        ("ddim", 10, "beta", lambda m, x, g: ddim(m, x, s64, steps=10), 10),
        ("ancestral", None, "beta", lambda m, x, g: ddpm_ancestral(m, x, s64, generator=g), 100),
        ("ancestral", 100, "beta_tilde", lambda m, x, g: ddpm_ancestral(m, x, s64, generator=g,
                                                                        variance="beta_tilde"), 100),
        ("ancestral", 10, "beta_tilde",
         lambda m, x, g: ddpm_ancestral(on_original_steps(m, taus), x, sub, generator=g, variance="beta_tilde"), 10),
    ]
    for k, (name, steps, variance, run, calls) in enumerate(cases):
        model = Probe()
        out = sample(model, sch32, 6, (2,), generator=torch.Generator().manual_seed(k), sampler=name, steps=steps,
                     variance=variance)
        want, want_steps = _direct(run, k)
        assert model.steps == want_steps and len({tuple(s) for s in want_steps}) == calls, name
        torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-14)
        assert out.dtype == F64 and not out.requires_grad and not any(model.grad)
    assert [s[0] for s in model.steps] == list(range(100, 0, -10))       # respaced: ε at τ_10, …, τ_1
    short, sch10 = Probe(), linear_schedule(10)                          # fewer than 25 steps: steps = n
    out = sample(short, sch10, 6, (2,), generator=torch.Generator().manual_seed(0))
    want, want_steps = _direct(lambda m, x, g: dpm_solver_2m(m, x, sch10, steps=10, eta=SDE_ETA, generator=g), 0)
    assert short.steps == want_steps
    torch.testing.assert_close(out, want, rtol=1e-12, atol=1e-14)


def test_sample_runs_in_eval_mode_and_restores_the_mode_it_found():
    for training in (True, False):
        model = Probe().train(training)
        x = sample(model, SCHED, 4, (1, 2, 2))                           # no generator: the global RNG
        assert x.shape == (4, 1, 2, 2) and torch.isfinite(x).all()
        assert not any(model.modes) and model.training is training


def test_sample_passes_the_callback_on_and_returns_the_models_dtype():
    """The callback sees the start and every step; a float32 model whose ε comes back in float64 (which
    promotes the sampler's state) still gets float32 samples."""
    from ddpm_lib.samplers import PathRecorder

    class Float64Out(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(0.5))

        def forward(self, x, i):
            return (self.w * x).double()

    rec = PathRecorder()
    x = sample(Float64Out(), SCHED, 3, (2,), sampler="ddim", steps=4, callback=rec)
    assert rec.path.shape == (5, 3, 2) and rec.where[0] == 100 and rec.where[-1] == 0
    assert x.dtype == torch.float32


def test_sample_argument_errors_name_what_was_wrong():
    class Chan(Probe):                                                   # channels alone: not an image model
        channels, dim = 3, 2

    for bad in ((0,), (True,), (2.0,), (2, -1)):
        with pytest.raises(ValueError, match=r"^shape must be a tuple of positive ints, got "):
            sample(Probe(), SCHED, 2, bad)
    with pytest.raises(TypeError, match=r"^shape must be a tuple of positive ints, got int$"):
        sample(Probe(), SCHED, 2, 2)
    assert sample(Chan(), SCHED, 2, [2], steps=3).shape == (2, 2)        # a list is a shape; `dim` decides
    with pytest.raises(ValueError, match=r"^shape must be \(2,\) for this model, got \(3,\)$"):
        sample(Chan(), SCHED, 2, (3,))
    with pytest.raises(TypeError, match=r"^schedule must be a ddpm_lib.Schedule, got list$"):
        sample(Probe(), [0.1], 2, (2,))
    with pytest.raises(TypeError, match=r"^model must be a torch.nn.Module, got function$"):
        sample(lambda x, i: x, SCHED, 2, (2,))
    with pytest.raises(ValueError, match=r"^steps must be an integer >= 1, got 0$"):
        sample(Probe(), SCHED, 2, (2,), sampler="ancestral", steps=0)
    with pytest.raises(ValueError, match=r"^unknown sampler 'euler'; known: dpm\+\+2m-sde, dpm\+\+2m, ancestral, "
                                         r"ddim$"):
        sample(Probe(), SCHED, 2, (2,), sampler="euler")
    with pytest.raises(ValueError, match=r"^the generator is on cpu but the model is on meta; "):
        sample(Probe().to("meta"), SCHED, 2, (2,), generator=torch.Generator())
