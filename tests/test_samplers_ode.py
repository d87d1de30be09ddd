"""Tests of the probability-flow ODE samplers (Heun on a Karras grid, DPM-Solver++(2M), DDIM), the
shared sampler contract (callback, argument order, NaN checks) and the time grids."""
from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

from ddpm_lib import cosine_schedule, linear_schedule, scaled_linear_schedule
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


# -- pinned by the mutation review of samplers/ode.py (tests/mutation/equivalent.md) ---------
def _nearest_log_snr_steps(alpha_bars: list[float], k: int, spacing: str) -> list[int]:
    """The steps of ``schedule_steps`` from their definition, in plain float64 Python: k targets uniform in
    λ = log(√ᾱ/√(1−ᾱ)) ("logsnr") or in σ^{1/7} with σ = e^{−λ} ("karras"), from λ_n to λ_1, each mapped to
    the step of nearest λ (asserted unambiguous), repeats dropped."""
    lam = [0.5 * (math.log(a) - math.log1p(-a)) for a in alpha_bars[1:]]  # λ_1 … λ_n
    lo, hi = lam[-1], lam[0]
    out: list[int] = []
    for j in range(k):
        u = j / (k - 1)
        if spacing == "logsnr":
            target = lo + u * (hi - lo)
        else:
            target = -7 * math.log(math.exp(-lo / 7) + u * (math.exp(-hi / 7) - math.exp(-lo / 7)))
        dist = sorted((abs(target - v), i + 1) for i, v in enumerate(lam))
        assert dist[1][0] - dist[0][0] > 1e-12  # no tie: the nearest step is well defined
        if not out or out[-1] != dist[0][1]:
            out.append(dist[0][1])
    return out


@pytest.mark.parametrize("make, dtype, spacing, k", [
    (linear_schedule, F64, "logsnr", 20), (linear_schedule, F64, "karras", 20),
    (cosine_schedule, F64, "logsnr", 42),            # a target 3e-4 of a step gap from a midpoint
    (cosine_schedule, torch.float32, "logsnr", 14),  # λ of float32 ᾱ: nearest only if computed in float64
    (linear_schedule, torch.float32, "karras", 144),
])
def test_schedule_steps_map_each_target_to_the_step_of_nearest_log_snr(make, dtype, spacing: str, k: int) -> None:
    """Slips caught: the two spacings swapped, λ scaled (uniform spacing is blind to it, ρ = 7 is not), the
    wrong endpoint λ_{n−1}, a wrong exponent or factor in the ρ = 7 map, and the targets or λ computed in
    float32 (near a midpoint that picks the farther step)."""
    sch = make(1000, dtype=dtype)
    assert schedule_steps(sch, k, spacing) == _nearest_log_snr_steps(sch.alpha_bars.tolist(), k, spacing)


def test_schedule_steps_default_to_uniform_and_k_equal_to_n_is_every_step() -> None:
    """A bug found by the mutation review: with ``k = n`` the log-SNR and ρ = 7 maps dropped steps (734 and 765
    of 1000 on this schedule), so ``dpm_solver_2m(steps=None)`` did not use "all n steps" as documented."""
    sch = linear_schedule(1000)
    assert schedule_steps(sch, 4) == schedule_steps(sch, 4, "uniform") == [1000, 667, 334, 1]  # 1000 − 333 j
    for spacing in ("uniform", "logsnr", "karras"):
        assert schedule_steps(sch, 1, spacing) == [1000]
        assert schedule_steps(sch, 2, spacing) == [1000, 1]
        assert schedule_steps(sch, 1000, spacing) == list(range(1000, 0, -1))
        assert schedule_steps(linear_schedule(7), 7, spacing) == [7, 6, 5, 4, 3, 2, 1]


def test_grid_errors_name_the_argument_and_what_is_allowed() -> None:
    for kwargs, pattern in [({"n": 0}, r"^n must be an integer >= 1"), ({"t_min": 0.0}, r"^t_min must be a finite"),
                            ({"t_max": -1.0}, r"^t_max must be a finite"), ({"rho": 0.0}, r"^rho must be a finite"),
                            ({"t_min": 1.0, "t_max": 1.0}, r"^t_min must be below t_max"),
                            ({"t_max": 701.0}, r"^t_max must be at most 700"),
                            ({"t_max": 140.05, "rho": 0.1}, r"^t_max must be at most 700 and at most 1400·rho")]:
        args = {"n": 4, "t_min": 1e-3, "t_max": 10.0, **kwargs}
        with pytest.raises(ValueError, match=pattern):
            karras_times(**args)
    assert float(karras_times(4, 1e-3, 700.0)[-1]) == 700.0  # the largest t_max allowed still works
    assert torch.isfinite(karras_times(4, 1e-3, 140.0, rho=0.1)).all()
    sch = linear_schedule(10)
    with pytest.raises(ValueError, match=r"^steps must be an integer >= 1, got 0"):
        schedule_steps(sch, 0)
    with pytest.raises(ValueError, match=r"^spacing must be one of uniform, logsnr, karras, got 'cubic'"):
        schedule_steps(sch, 3, "cubic")


def test_ddim_is_the_formula_of_its_docstring_and_ends_on_the_data_prediction() -> None:
    """Two steps i = 10 -> 1 -> 0 by hand: x̂_0 = (x_i − √(1−ᾱ_i) ε)/√ᾱ_i, x_j = √ᾱ_j x̂_0 + √(1−ᾱ_j) ε, and
    the last step (ᾱ_0 = 1) returns x̂_0 itself (slip caught: ending at step 1 instead of 0)."""
    sch = linear_schedule(10)
    ab = sch.alpha_bars.tolist()

    def eps(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return 0.3 * x + 0.01 * i.to(x.dtype)[:, None]

    x = torch.tensor([[1.5, -0.5], [0.2, 2.0]], dtype=F64)
    e10 = eps(x, torch.full((2,), 10))
    x1 = math.sqrt(ab[1]) * (x - math.sqrt(1 - ab[10]) * e10) / math.sqrt(ab[10]) + math.sqrt(1 - ab[1]) * e10
    want = (x1 - math.sqrt(1 - ab[1]) * eps(x1, torch.full((2,), 1))) / math.sqrt(ab[1])
    torch.testing.assert_close(ddim(eps, x, sch, steps=2), want, rtol=1e-13, atol=1e-13)


def test_ode_samplers_report_every_position_and_pass_their_options_on() -> None:
    """The callback's t / i at the start and after each step; ``spacing``, ``steps=None`` (all n) and
    ``dpm_solver_2m``'s default of 20 log-SNR steps actually used."""
    sch, x = linear_schedule(1000), torch.zeros(3, 2, dtype=F64)
    zero = lambda y, i: torch.zeros_like(y)  # noqa: E731
    rec = PathRecorder()
    probability_flow_heun(lambda y, t: -y, x, [0.1, 0.5, 1.0], callback=rec)
    assert rec.where == [1.0, 0.5, 0.1]
    probability_flow_heun(lambda y, t: -y, x, [0.1, 0.5, 1.0], callback=rec, direction="forward")
    assert rec.where == [0.1, 0.5, 1.0]
    for sampler in (ddim, dpm_solver_2m):
        sampler(zero, x, sch, steps=4, spacing="uniform", callback=rec)
        assert rec.where == [1000, 667, 334, 1, 0], sampler.__name__
        sampler(zero, x, sch, steps=6, spacing="karras", callback=rec)
        assert rec.where == _nearest_log_snr_steps(sch.alpha_bars.tolist(), 6, "karras") + [0], sampler.__name__
        sampler(zero, x, linear_schedule(5), steps=None, callback=rec)
        assert rec.where == [5, 4, 3, 2, 1, 0], sampler.__name__
    dpm_solver_2m(zero, x, sch, callback=rec)
    assert rec.where == _nearest_log_snr_steps(sch.alpha_bars.tolist(), 20, "logsnr") + [0]
    assert len(rec.where) == 21  # 20 distinct steps on this schedule, then 0


def test_ode_samplers_name_the_step_and_position_where_the_model_failed() -> None:
    x, sch = torch.zeros(3, 2, dtype=F64), linear_schedule(1000)

    def eps_nan_at(bad: int):
        return lambda y, i: torch.full_like(y, math.nan) if int(i[0]) == bad else torch.zeros_like(y)

    for sampler in (ddim, dpm_solver_2m):
        with pytest.raises(ValueError, match=r"^eps returned NaN or infinity at step 3 of 4 \(i = 334\)"):
            sampler(eps_nan_at(334), x, sch, steps=4, spacing="uniform")
        with pytest.raises(ValueError, match=r"^eps must return a tensor of the state's shape \(3, 2\), got \(3,\)"):
            sampler(lambda y, i: y[:, 0], x, sch, steps=4)
    grid = [0.1, 0.5, 1.0]  # backward: step 1 from t = 1 to 0.5, step 2 from 0.5 to 0.1 (two calls each)

    def score_nan_at(bad: float):
        return lambda y, t: torch.full_like(y, math.nan) if t == bad else -y

    with pytest.raises(ValueError, match=r"^score returned NaN or infinity at step 1 of 2 \(t = 1\)"):
        probability_flow_heun(score_nan_at(1.0), x, grid)  # the first call of step 1
    with pytest.raises(ValueError, match=r"^score returned NaN or infinity at step 2 of 2 \(t = 0.1\)"):
        probability_flow_heun(score_nan_at(0.1), x, grid)  # the second call of step 2


def test_ode_samplers_check_their_generator_and_the_batch_dimension() -> None:
    """Deterministic samplers accept a generator (so samplers are interchangeable) but still refuse a wrong one;
    the ε samplers need ``x (batch, ...)``."""
    sch, x = linear_schedule(10), torch.zeros(3, 2, dtype=F64)
    zero = lambda y, i: torch.zeros_like(y)  # noqa: E731
    with pytest.raises(TypeError, match="^generator must be a torch.Generator or None, got int"):
        probability_flow_heun(lambda y, t: -y, x, [0.1, 1.0], generator=1)
    with pytest.raises(TypeError, match="^generator must be a torch.Generator or None, got int"):
        ddim(zero, x, sch, generator=1)
    for sampler in (ddim, dpm_solver_2m):
        with pytest.raises(ValueError, match=r"^x must have \(batch, \.\.\.\) with at least 2 dimensions"):
            sampler(zero, torch.zeros(3, dtype=F64), sch, steps=2)


def test_the_stochastic_variant_keeps_the_exact_marginals_for_every_eta() -> None:
    """For a point mass at m (x̂_0 = m for every x) each step of the η-variant maps N(√ᾱ_i m, 1−ᾱ_i) to
    N(√ᾱ_j m, 1−ᾱ_j) exactly, for every η (the noise std b'√(1−e^{−2ηh}) makes up the variance the
    contraction (b'/b)e^{−ηh} removes). With 20 000 draws each of the 19 intermediate states' standardised mean
    and variance must be within 6 standard errors of 0 and 1: false alarm < 1e-7 (38 checks, each < 2e-9).
    Slip caught: e^{−2h/η} for e^{−2ηh} in the noise (the same at η = 1, so η = 0.5 here)."""
    sch, m = linear_schedule(1000), 0.7
    ab = sch.alpha_bars

    def eps(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        a = ab[i].reshape(-1, 1)
        return (x - a.sqrt() * m) / (1 - a).sqrt()

    n = 20_000
    g = gen(0)
    x_n = math.sqrt(ab[-1]) * m + math.sqrt(1 - ab[-1]) * torch.randn(n, 1, dtype=F64, generator=g)
    rec = PathRecorder()
    dpm_solver_2m(eps, x_n, sch, steps=20, eta=0.5, generator=g, callback=rec)
    for x, i in zip(rec.states[1:-1], rec.where[1:-1]):
        z = (x - math.sqrt(ab[i]) * m) / math.sqrt(1 - ab[i])
        assert abs(float(z.mean())) < 6 / math.sqrt(n), i
        assert abs(float(z.var()) - 1) < 6 * math.sqrt(2 / n), i
