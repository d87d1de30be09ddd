"""Tests of the probability-flow ODE samplers (Heun on a Karras grid, DPM-Solver++(2M), DDIM), the
shared sampler contract (callback, argument order, NaN checks) and the time grids."""
from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from ddpm_lib import linear_schedule, scaled_linear_schedule
from ddpm_lib.mixtures import GaussianMixture, ring_mixture
from ddpm_lib.samplers import (PathRecorder, ddim, ddpm_ancestral, discrete_backward, dpm_solver_2m, dpm_step,
                               karras_times, langevin, probability_flow_heun, reverse_sde_euler, schedule_steps)

F64 = torch.float64


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def gaussian_1d(mean: float, var: float) -> GaussianMixture:
    return GaussianMixture([1.0], [[mean]], [[[var]]])


# -- the exponential-integrator step --------------------------------------------------------
def test_dpm_step_solves_the_flow_exactly_when_the_data_prediction_is_constant() -> None:
    """x(λ) = dpm_step(x_s, D, …, λ) satisfies d(x/σ)/dλ = e^λ D and x(λ_s) = x_s (VP: α² + σ² = 1)."""
    lam, lam_s, x_s, D = sp.symbols("lambda lambda_s x_s D", real=True)
    alpha = lambda l: 1 / sp.sqrt(1 + sp.exp(-2 * l))  # noqa: E731
    sigma = lambda l: sp.exp(-l) * alpha(l)  # noqa: E731
    x = dpm_step(x_s, D, alpha(lam_s), sigma(lam_s), alpha(lam), sigma(lam))
    assert sp.simplify(sp.diff(x / sigma(lam), lam) - sp.exp(lam) * D) == 0
    assert sp.simplify(x.subs(lam, lam_s) - x_s) == 0


@pytest.mark.parametrize("steps", [2, 5, 20])
def test_dpm_solver_2m_is_exact_when_the_data_prediction_is_constant(steps: int) -> None:
    """ε(x, i) = (x − √ᾱ_i m)/√(1−ᾱ_i) has x̂_0 = m at every step (a point mass at m): every step is exact."""
    sch, m = linear_schedule(1000), 0.7
    ab = sch.alpha_bars

    def eps(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        a = ab[i].reshape(-1, 1)
        return (x - a.sqrt() * m) / (1 - a).sqrt()

    x_n = torch.randn(50, 1, dtype=F64, generator=gen(1))
    out = dpm_solver_2m(eps, x_n, sch, steps=steps)
    torch.testing.assert_close(out, torch.full_like(out, m), rtol=0, atol=1e-12)


# -- the closed-form flow of a Gaussian target and the order of convergence -----------------
def gaussian_flow(x: torch.Tensor, m: float, c2: float, a_from: float, v_from: float, a_to: float,
                  v_to: float) -> torch.Tensor:
    """The probability-flow map of N(m, c²) between noise levels (α, σ²): affine, standardising the marginal."""
    return a_to * m + math.sqrt((a_to ** 2 * c2 + v_to) / (a_from ** 2 * c2 + v_from)) * (x - a_from * m)


def _gaussian_flow_problem():
    """(schedule, ε of N(0.5, 0.25), x_n, exact x_0): the flow from step n to step 1 in closed form,
    then the last (denoising) step taken exactly as the samplers do."""
    m, c2 = 0.5, 0.25
    sch = scaled_linear_schedule(20_000)
    ab = sch.alpha_bars.tolist()
    eps = gaussian_1d(m, c2).eps_fn(sch)
    x_n = torch.linspace(-2.5, 2.5, 11, dtype=F64)[:, None]
    x1 = gaussian_flow(x_n, m, c2, math.sqrt(ab[-1]), 1 - ab[-1], math.sqrt(ab[1]), 1 - ab[1])
    return sch, eps, x_n, (x1 - math.sqrt(1 - ab[1]) * eps(x1, 1)) / math.sqrt(ab[1])


def test_dpm_solver_2m_converges_at_second_order_to_the_closed_form_flow() -> None:
    sch, eps, x_n, exact = _gaussian_flow_problem()
    errs = [float((dpm_solver_2m(eps, x_n, sch, steps=k) - exact).abs().max()) for k in (20, 40, 80, 160)]
    ratios = [a / b for a, b in zip(errs, errs[1:])]
    assert all(3.0 < r < 5.5 for r in ratios), (errs, ratios)  # second order: error / 4 per doubling
    ddim_errs = [float((ddim(eps, x_n, sch, steps=k) - exact).abs().max()) for k in (20, 40)]
    assert 1.6 < ddim_errs[0] / ddim_errs[1] < 2.5  # DDIM: first order
    assert errs[1] < ddim_errs[0] / 10


def test_dpm_solver_2m_keeps_second_order_on_a_grid_uniform_in_the_step_index() -> None:
    """On this uneven grid the step ratio r of the multistep correction is not 1 (see also
    tests/test_mutation_kills.py, which pins the update itself)."""
    sch, eps, x_n, exact = _gaussian_flow_problem()
    errs = [float((dpm_solver_2m(eps, x_n, sch, steps=k, spacing="uniform") - exact).abs().max())
            for k in (40, 80, 160)]
    ratios = [a / b for a, b in zip(errs, errs[1:])]
    assert all(3.0 < r < 5.5 for r in ratios), (errs, ratios)


def test_heun_on_a_karras_grid_converges_at_second_order_to_the_closed_form_flow() -> None:
    m, c2, t_min, t_max = 0.5, 0.25, 1e-3, 10.0
    score = gaussian_1d(m, c2).score_fn()
    x_T = torch.linspace(-2.5, 2.5, 11, dtype=F64)[:, None]
    exact = gaussian_flow(x_T, m, c2, math.exp(-t_max / 2), -math.expm1(-t_max), math.exp(-t_min / 2),
                          -math.expm1(-t_min))
    errs = [float((probability_flow_heun(score, x_T, karras_times(k, t_min, t_max)) - exact).abs().max())
            for k in (8, 16, 32, 64)]
    ratios = [a / b for a, b in zip(errs, errs[1:])]
    assert all(3.0 < r < 5.5 for r in ratios[1:]), (errs, ratios)
    # on N(0, 1) the flow is at rest (s = −x): Heun is exact on any grid
    rest = probability_flow_heun(gaussian_1d(0.0, 1.0).score_fn(), x_T, karras_times(3, t_min, t_max))
    torch.testing.assert_close(rest, x_T, rtol=0, atol=1e-12)


def test_both_are_second_order_with_the_exact_score_of_the_ring_mixture() -> None:
    """Error against a 640-step solution of the same flow from the same start: ÷4 per doubling."""
    gm = ring_mixture()
    x_T = torch.randn(2000, 2, dtype=F64, generator=gen(3))
    sch = scaled_linear_schedule(20_000)
    eps = gm.eps_fn(sch)
    ref = dpm_solver_2m(eps, x_T, sch, steps=640)
    errs = [float((dpm_solver_2m(eps, x_T, sch, steps=k) - ref).norm(dim=1).mean()) for k in (20, 40, 80)]
    assert all(3.0 < a / b < 6.0 for a, b in zip(errs, errs[1:])), errs
    score, t_min = gm.score_fn(), 1e-3
    ref = probability_flow_heun(score, x_T, karras_times(640, t_min, 10.0))
    errs = [float((probability_flow_heun(score, x_T, karras_times(k, t_min, 10.0)) - ref).norm(dim=1).mean())
            for k in (20, 40, 80)]
    assert all(3.0 < a / b < 6.0 for a, b in zip(errs, errs[1:])), errs


# -- grids --------------------------------------------------------------------------------------
def test_karras_times_are_rho_spaced_in_sigma() -> None:
    t = karras_times(10, 1e-3, 10.0)
    assert t.shape == (11,) and float(t[0]) == 1e-3 and float(t[-1]) == 10.0
    u = torch.sqrt(torch.expm1(t)) ** (1 / 7)
    torch.testing.assert_close(u[1:] - u[:-1], torch.full((10,), float(u[1] - u[0]), dtype=F64))
    with pytest.raises(ValueError, match="t_min must be below t_max"):
        karras_times(10, 2.0, 1.0)
    with pytest.raises(ValueError, match="rho"):
        karras_times(10, 0.1, 1.0, rho=0)


@pytest.mark.parametrize("spacing", ["uniform", "logsnr", "karras"])
def test_schedule_steps_run_from_n_down_to_1(spacing: str) -> None:
    sch = linear_schedule(1000)
    steps = schedule_steps(sch, 20, spacing)
    assert steps[0] == 1000 and steps[-1] == 1 and all(a > b for a, b in zip(steps, steps[1:]))
    assert 15 <= len(steps) <= 20
    with pytest.raises(ValueError, match="spacing must be one of"):
        schedule_steps(sch, 20, "cubic")
    with pytest.raises(ValueError, match="at most the schedule's n = 1000"):
        dpm_solver_2m(lambda x, i: x, torch.zeros(3, 2), sch, steps=1001)


# -- the shared contract ----------------------------------------------------------------------
def test_every_sampler_reports_the_start_and_each_step_to_the_callback() -> None:
    gm, sch = ring_mixture(), linear_schedule(10)
    x = torch.randn(4, 2, dtype=F64, generator=gen())
    runs = {
        "langevin": (lambda cb: langevin(gm.score_fn(), x, 0.01, 5, generator=gen(), callback=cb), 5, "t"),
        "reverse_sde_euler": (lambda cb: reverse_sde_euler(gm.score_fn(), x, sch.times[1:], generator=gen(),
                                                           callback=cb), 9, "t"),
        "discrete_backward": (lambda cb: discrete_backward(gm.score_fn(), x, sch, generator=gen(), callback=cb), 10, "i"),
        "ddpm_ancestral": (lambda cb: ddpm_ancestral(gm.eps_fn(sch), x, sch, generator=gen(), callback=cb), 10, "i"),
        "ddim": (lambda cb: ddim(gm.eps_fn(sch), x, sch, generator=gen(), callback=cb, steps=5), 5, "i"),
        "dpm_solver_2m": (lambda cb: dpm_solver_2m(gm.eps_fn(sch), x, sch, callback=cb, steps=5,
                                                       spacing="uniform"), 5, "i"),
        "probability_flow_heun": (lambda cb: probability_flow_heun(gm.score_fn(), x, sch.times[1:], callback=cb), 9, "t"),
    }
    for name, (run, n_steps, where) in runs.items():
        infos: list[dict] = []
        out = run(infos.append)
        assert [i["k"] for i in infos] == list(range(n_steps + 1)), name
        assert all(i["n_steps"] == n_steps and where in i for i in infos), name
        torch.testing.assert_close(infos[0]["x"], x)
        torch.testing.assert_close(infos[-1]["x"], out)
    rec = PathRecorder()
    ddpm_ancestral(gm.eps_fn(sch), x, sch, generator=gen(), callback=rec)
    assert rec.path.shape == (11, 4, 2) and rec.where[0] == 10 and rec.where[-1] == 0


def test_a_nan_score_stops_the_sampler_naming_the_step() -> None:
    sch = linear_schedule(10)
    x = torch.zeros(3, 2, dtype=F64)

    def eps(y: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return torch.full_like(y, math.nan) if int(i[0]) == 7 else torch.zeros_like(y)

    with pytest.raises(ValueError, match=r"eps returned NaN or infinity at step 4 of 10 \(i = 7\)"):
        ddpm_ancestral(eps, x, sch, generator=gen())
    with pytest.raises(ValueError, match=r"score returned NaN or infinity at step 1 of 3"):
        langevin(lambda y, t: y / 0 * 0, x, 0.1, 3)
    with pytest.raises(ValueError, match="score returned NaN"):
        probability_flow_heun(lambda y, t: torch.full_like(y, math.inf), x, [0.1, 1.0])
    with pytest.raises(ValueError, match="eps returned NaN"):
        dpm_solver_2m(lambda y, i: torch.full_like(y, math.nan), x, sch, steps=3)


def test_the_old_argument_order_and_bad_options_are_refused_clearly() -> None:
    sch, x, gm = linear_schedule(10), torch.zeros(3, 2, dtype=F64), ring_mixture()
    with pytest.raises(TypeError, match=r"the order is sampler\(fn, x, grid\)"):
        ddpm_ancestral(gm.eps_fn(sch), sch, x)
    with pytest.raises(TypeError, match="must be a time grid for this sampler, got a Schedule"):
        reverse_sde_euler(gm.score_fn(), x, sch)
    with pytest.raises(TypeError, match="callback must be a callable"):
        ddim(gm.eps_fn(sch), x, sch, callback="print")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        dpm_solver_2m(gm.eps_fn(sch), x, sch, generator=1)
    with pytest.raises(ValueError, match="t must satisfy t >= 0"):
        langevin(gm.score_fn(), x, 0.1, 3, t=-1.0)
    with pytest.raises(TypeError, match="positional"):
        ddpm_ancestral(gm.eps_fn(sch), x, sch, gen())  # the generator is keyword-only


def test_the_stochastic_variant_reduces_to_the_ode_and_is_reproducible() -> None:
    gm, sch = ring_mixture(), linear_schedule(1000)
    x = torch.randn(500, 2, dtype=F64, generator=gen(4))
    ode = dpm_solver_2m(gm.eps_fn(sch), x, sch, steps=15)
    torch.testing.assert_close(dpm_solver_2m(gm.eps_fn(sch), x, sch, steps=15, eta=0.0, generator=gen(1)), ode)
    sde = dpm_solver_2m(gm.eps_fn(sch), x, sch, steps=15, eta=1.0, generator=gen(1))
    torch.testing.assert_close(sde, dpm_solver_2m(gm.eps_fn(sch), x, sch, steps=15, eta=1.0, generator=gen(1)))
    assert not torch.allclose(sde, ode)
    # the reverse SDE keeps the law: at 50 steps the ring's radius (E|x| = 3.02) and width (0.30)
    r = dpm_solver_2m(gm.eps_fn(sch), x, sch, steps=50, eta=1.0, generator=gen(1)).norm(dim=1)
    assert abs(float(r.mean()) - 3.02) < 0.03 and abs(float(r.std()) - 0.3) < 0.03
    with pytest.raises(ValueError, match="eta must be a finite number >= 0"):
        dpm_solver_2m(gm.eps_fn(sch), x, sch, eta=-1.0)
