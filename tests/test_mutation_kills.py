"""Unit tests written to kill realistic slips that the module tests let through (tests/mutation/)
and mutants that survived `mutmut run`. Each names the mistake it catches."""
import math

import pytest
import torch

from ddpm_lib import linear_schedule
from ddpm_lib.samplers import ddpm_ancestral


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_ancestral_noise_variance_is_the_one_asked_for(variance):
    """Slip `ancestral-beta-tilde-swap`: β and β̃ swapped. With ε ≡ 0 and n = 2, x_0 = σ_2 z / √α_1
    exactly, so Var x_0 = σ_2²/α_1 with σ_2² = β_2 or β̃_2 = (1 − ᾱ_1) β_2 / (1 − ᾱ_2); here they
    differ by a factor 5.5. Checked within 4 standard errors (false-alarm probability 6e-5)."""
    sched = linear_schedule(2, beta_start=0.1, beta_end=0.5)
    b1, b2 = 0.1, 0.5
    sig2 = b2 if variance == "beta" else (1 - (1 - b1)) / (1 - (1 - b1) * (1 - b2)) * b2
    expected = sig2 / (1 - b1)
    n = 200_000
    x0 = ddpm_ancestral(lambda x, i: torch.zeros_like(x), torch.zeros(n, 1, dtype=torch.float64), sched,
                        generator=torch.Generator().manual_seed(0), variance=variance)
    var = float(x0.var())
    se = expected * math.sqrt(2 / (n - 1))
    assert abs(var - expected) <= 4 * se, f"Var x_0 = {var:.5f}, expected {expected:.5f} ± {se:.1e} for {variance}"



def test_dpm_solver_2m_matches_algorithm_2_of_lu_et_al_on_an_uneven_grid():
    """Slip `dpm2m-wrong-ratio`: r = h_{m−1}/h_m upside down. On a grid uniform in log-SNR both ratios are
    1 and the slip changes nothing, and on any smooth grid it keeps second order; so this test rebuilds
    Algorithm 2 of Lu et al. (2022) by hand on an uneven grid (uniform in the step index) with a
    non-linear ε and compares the iterates exactly."""
    from ddpm_lib.samplers import dpm_solver_2m, schedule_steps

    sched = linear_schedule(100)
    eps = lambda x, i: torch.sin(3 * x) + 0.01 * i.to(x.dtype)[:, None]   # any smooth predictor
    x_n = torch.linspace(-2, 2, 7, dtype=torch.float64)[:, None]
    steps = schedule_steps(sched, 5, "uniform")
    ab = sched.alpha_bars.tolist()
    alpha = [math.sqrt(ab[i]) for i in steps]
    sigma = [math.sqrt(1 - ab[i]) for i in steps]
    lam = [math.log(a / s) for a, s in zip(alpha, sigma)]
    x, d_prev = x_n.clone(), None
    for m, i in enumerate(steps):
        d = (x - sigma[m] * eps(x, torch.full((x.shape[0],), i))) / alpha[m]      # data prediction x̂_0
        if m + 1 == len(steps):                                                   # last step, to σ = 0
            x = d
            break
        h = lam[m + 1] - lam[m]
        if d_prev is None:
            D = d
        else:
            r = (lam[m] - lam[m - 1]) / h                                         # r_m = h_{m−1} / h_m
            D = (1 + 1 / (2 * r)) * d - (1 / (2 * r)) * d_prev
        x = (sigma[m + 1] / sigma[m]) * x - alpha[m + 1] * (math.exp(-h) - 1) * D
        d_prev = d
    got = dpm_solver_2m(eps, x_n, sched, steps=5, spacing="uniform")
    assert torch.allclose(got, x, rtol=0, atol=1e-12), (got - x).abs().max()


def test_noise_floor_compares_two_samples_of_the_size_asked_for():
    """Slip `noise-floor-half-n`: the floor computed from samples of another size (a floor must be
    measured at the size of the sample it is compared with). A 'metric' that returns the sample size
    pins it exactly."""
    from ddpm_lib.metrics import noise_floor

    draw = lambda n, g: torch.randn(n, 2, generator=g, dtype=torch.float64)
    mean, std = noise_floor(draw, 300, metric=lambda x, y: float(x.shape[0] + y.shape[0]), repeats=3)
    assert (mean, std) == (600.0, 0.0)


# -- survivors of `mutmut run` on forward.py and schedules.py (see tests/mutation/equivalent.md) --
def _seeded(k: int) -> torch.Generator:
    return torch.Generator().manual_seed(k)


def test_every_forward_sampler_draws_its_noise_from_the_generator_it_is_given():
    """Mutants that drop `generator=` (a run that cannot be reproduced from its seed)."""
    from ddpm_lib import forward as F

    sched = linear_schedule(20, beta_start=0.01, beta_end=0.2)
    x0 = torch.ones(64, 2, dtype=torch.float64)
    draws = {
        "ou_sample": lambda g: F.ou_sample(x0, 0.7, generator=g),
        "ou_euler_maruyama": lambda g: F.ou_euler_maruyama(x0, torch.linspace(0, 1, 5), generator=g),
        "q_sample": lambda g: F.q_sample(sched, x0, 5, generator=g)[0],
        "markov_chain": lambda g: F.markov_chain(sched, x0, generator=g),
    }
    for name, draw in draws.items():
        assert torch.equal(draw(_seeded(3)), draw(_seeded(3))), f"{name} ignores its generator's seed"
        assert not torch.equal(draw(_seeded(3)), draw(_seeded(4))), f"{name} ignores its generator"


def test_vp_step_with_a_given_noise_is_the_formula_exactly():
    """Mutant `… − √β ε`: harmless in law for internal noise, wrong when the caller passes ε (a DSM target)."""
    from ddpm_lib.forward import vp_step

    x, eps = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([0.5, 0.25], dtype=torch.float64)
    assert torch.allclose(vp_step(x, 0.36, eps), 0.8 * x + 0.6 * eps, rtol=0, atol=1e-15)


def test_markov_chain_runs_the_number_of_steps_asked_for():
    """Mutant that ignores `steps` (the chain always runs to n)."""
    from ddpm_lib import forward as F

    sched = linear_schedule(10, beta_start=0.05, beta_end=0.3)
    x0 = torch.full((4, 1), 2.0, dtype=torch.float64)
    path = F.markov_chain(sched, x0, generator=_seeded(0), steps=3, return_path=True)
    assert path.shape[0] == 4                                  # x_0 and three steps
    assert torch.equal(path[-1], F.markov_chain(sched, x0, generator=_seeded(0), steps=3))


def test_schedules_keep_the_dtype_asked_for_and_their_exact_bounds():
    """Mutants that drop `dtype=` and that move the bounds of linear_schedule's checks."""
    from ddpm_lib import cosine_schedule, scaled_linear_schedule

    for make in (lambda: linear_schedule(5, dtype=torch.float32), lambda: linear_schedule(1, dtype=torch.float32),
                 lambda: cosine_schedule(5, dtype=torch.float32), lambda: scaled_linear_schedule(5, dtype=torch.float32)):
        assert make().betas.dtype == torch.float32
    assert torch.allclose(linear_schedule(4, beta_start=0.1, beta_end=0.1).betas[1:],
                          torch.full((4,), 0.1, dtype=torch.float64))         # start == end is a constant schedule
    with pytest.raises(ValueError, match="beta_end must lie in"):
        linear_schedule(4, beta_start=0.1, beta_end=1.0)                        # β = 1 destroys x at once


def test_errors_name_the_argument_that_was_wrong():
    """Mutants that drop or garble the argument's name in an error message."""
    from ddpm_lib import forward as F

    sched = linear_schedule(5)
    bad = torch.tensor([[float("nan")]], dtype=torch.float64)
    cases = [
        (lambda: F.ou_sample(bad, 0.5), "x0"),
        (lambda: F.q_sample(sched, bad, 1), "x0"),
        (lambda: F.q_sample(sched, torch.ones(1, 1), 1, noise=bad), "noise"),
        (lambda: F.markov_chain(sched, bad), "x0"),
        (lambda: F.ou_mean_scale(-1.0), "t"),
        (lambda: F.q_sample(sched, torch.ones(1, 1), 9), "i"),
        (lambda: sched.respace(0), "k"),
        (lambda: linear_schedule(0), "n"),
    ]
    for call, name in cases:
        with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
            call()


def test_every_error_path_of_forward_and_schedules_names_its_argument():
    """The rest of the error paths (second review): each argument's name on each of its checks."""
    from ddpm_lib import cosine_schedule, scaled_linear_schedule
    from ddpm_lib import forward as F
    from ddpm_lib.schedules import Schedule, cosine_alpha_bar

    sched = linear_schedule(5)
    ok = torch.ones(2, 1, dtype=torch.float64)
    cplx = torch.ones(2, 1, dtype=torch.complex128)                      # fails as_tensor (not real)
    nan = torch.full((2, 1), float("nan"), dtype=torch.float64)          # fails check_finite
    cases = [
        (lambda: F.ou_sample(cplx, 0.5), "x0"),
        (lambda: F.ou_sample(ok, torch.ones(2, 2)), "t"),
        (lambda: F.ou_sample(ok, torch.ones(3)), "x0"),
        (lambda: F.ou_euler_maruyama(cplx, [0.0, 1.0]), "x0"),
        (lambda: F.ou_euler_maruyama(nan, [0.0, 1.0]), "x0"),
        (lambda: F.ou_euler_maruyama(ok, [0.0]), "t_grid"),
        (lambda: F.ou_euler_maruyama(ok, [0.0, float("nan")]), "t_grid"),
        (lambda: F.ou_euler_maruyama(ok, [-1.0, 0.0]), "t_grid"),
        (lambda: F.ou_euler_maruyama(ok, [0.0, 0.0]), "t_grid"),
        (lambda: F.ou_euler_maruyama(ok, ["a", "b"]), "t_grid"),
        (lambda: F.vp_step(ok, 1.5, ok), "beta"),
        (lambda: F.vp_marginal(ok, 1.5, ok), "alpha_bar"),
        (lambda: F.q_sample(sched, cplx, 1), "x0"),
        (lambda: F.q_sample(sched, ok, 1, noise=torch.ones(2, 1, dtype=torch.complex128)), "noise"),
        (lambda: F.q_sample(sched, ok, 1, noise=torch.ones(3, 1)), "x0"),
        (lambda: F.q_sample(sched, ok, 1, noise=torch.ones(3, 1)), "noise"),
        (lambda: F.q_sample(sched, ok, torch.ones(2, 2, dtype=torch.long)), "i"),
        (lambda: F.q_sample(sched, ok, torch.ones(3, dtype=torch.long)), "x0"),
        (lambda: F.markov_chain(sched, cplx), "x0"),
        (lambda: F.markov_chain(sched, ok, steps=6), "steps"),
        (lambda: F.markov_chain(sched, ok, steps=-1), "steps"),
        (lambda: sched.check_step(6), "i"),
        (lambda: sched.check_step(1.5), "i"),
        (lambda: sched.check_step(True), "i"),
        (lambda: sched.respace(6), "k"),
        (lambda: Schedule(torch.ones(1, dtype=torch.complex128)), "betas"),
        (lambda: Schedule(torch.ones(2, 2) / 4), "betas"),
        (lambda: Schedule([float("nan")]), "betas"),
        (lambda: linear_schedule(4, beta_start=2.0), "beta_start"),
        (lambda: linear_schedule(4, beta_start=0.2, beta_end=0.1), "beta_start"),
        (lambda: scaled_linear_schedule(0), "n"),
        (lambda: cosine_schedule(0), "n"),
        (lambda: cosine_schedule(4, s=-1.0), "s"),
        (lambda: cosine_schedule(4, max_beta=1.5), "max_beta"),
        (lambda: cosine_schedule(4, max_beta=1.0), "max_beta"),
        (lambda: cosine_alpha_bar(0.5, s=0.0), "s"),
        (lambda: cosine_alpha_bar(torch.ones(1, dtype=torch.complex128)), "u"),
        (lambda: cosine_alpha_bar(1.5), "u"),
    ]
    for k, (call, name) in enumerate(cases):
        with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
            call()
            pytest.fail(f"case {k} raised nothing")


def test_markov_chain_with_zero_steps_is_the_identity():
    """Decided in the mutation review: `steps=0` is allowed (like `q_sample(…, i=0)`), runs no step and
    returns x_0 itself; the path is x_0 alone. Kills the mutant `allow_zero=False`."""
    from ddpm_lib import forward as F

    sched = linear_schedule(5)
    x0 = torch.tensor([[1.5, -2.0]], dtype=torch.float64)
    assert torch.equal(F.markov_chain(sched, x0, generator=_seeded(0), steps=0), x0)
    path = F.markov_chain(sched, x0, generator=_seeded(0), steps=0, return_path=True)
    assert path.shape == (1, 1, 2) and torch.equal(path[0], x0)
    assert torch.equal(F.q_sample(sched, x0, 0)[0], x0)                 # the same convention as q_sample
