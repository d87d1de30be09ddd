"""Tests of ddpm_lib.samplers with exact scores (Gaussian and Gaussian-mixture targets)."""
from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ddpm_lib import Schedule, linear_schedule
from ddpm_lib.metrics import noise_floor, sliced_wasserstein
from ddpm_lib.mixtures import GaussianMixture, ring_mixture
from ddpm_lib.samplers import (PathRecorder, ddpm_ancestral, discrete_backward, eps_from_score, langevin,
                               probability_flow_heun, progress, reverse_sde_euler, sample_path, score_from_eps)

F64 = torch.float64
N_RING = 10_000  # particles for the ring tests (SWD noise floor ≈ 0.035)


def scaled_linear(n: int) -> Schedule:
    """Ho et al.'s linear schedule rescaled to ``n >= 25`` steps (total time T ≈ 10 for every n)."""
    return linear_schedule(n, 1e-4 * 1000 / n, 0.02 * 1000 / n)


def ramp(n: int, T: float) -> Schedule:
    """``β_i ∝ i`` (a linear ramp from β_1 to 20 β_1) with total time ``T``."""
    b = torch.linspace(1.0, 20.0, n, dtype=F64)
    return Schedule(b / b.sum() * T)



def gaussian(var: float) -> GaussianMixture:
    return GaussianMixture(torch.ones(1, dtype=F64), torch.zeros(1, 1, dtype=F64), torch.full((1, 1, 1), var, dtype=F64))


def noise(n: int, d: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, dtype=F64, generator=torch.Generator().manual_seed(seed))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def ring() -> dict:
    gm = ring_mixture()
    floor, floor_sd = noise_floor(gm.sample, N_RING, repeats=8)
    return {"gm": gm, "score": gm.score_fn(), "floor": floor, "floor_sd": floor_sd}


def swd_to(gm: GaussianMixture, x: torch.Tensor, t: float = 0.0, seed: int = 99) -> float:
    target = gm.diffuse(t) if t > 0 else gm
    return sliced_wasserstein(x, target.sample(x.shape[0], gen(seed)))


# -- Langevin ----------------------------------------------------------------------------
@pytest.mark.parametrize("h", [0.3, 0.8])
def test_langevin_reaches_the_gaussian_with_its_O_h_variance_bias(h: float) -> None:
    """For s(x) = −x the chain x ← (1 − h) x + √(2h) z has stationary variance 2/(2 − h), not 1."""
    n = 40_000
    x = langevin(lambda y, t: -y, 5 + noise(n, 1), h, 200, generator=gen(1))
    var, mean = float(x.var()), float(x.mean())
    expected = 2 / (2 - h)
    se_var = expected * math.sqrt(2 / (n - 1))
    assert abs(mean) < 4 * math.sqrt(expected / n)
    assert abs(var - expected) < 4 * se_var, (var, expected)
    assert abs(var - 1) > 10 * se_var  # the O(h) bias is visible


def test_langevin_with_a_mixture_score_keeps_the_law_for_a_small_step() -> None:
    gm = ring_mixture()
    x = langevin(gm.score_fn(), gm.sample(N_RING, gen(2)), 1e-3, 200, generator=gen(3))
    floor, _ = noise_floor(gm.sample, N_RING, repeats=3)
    assert swd_to(gm, x) < 1.5 * floor


# -- the discrete backward update is first-order consistent with the reverse SDE -----------
def mean_factor(run) -> float:
    """``∂ out / ∂ x_start`` of a sampler that is affine in its start (same seed twice)."""
    one = run(torch.ones(1, 1, dtype=F64), gen(5))
    zero = run(torch.zeros(1, 1, dtype=F64), gen(5))
    return float(one - zero)


def test_one_backward_step_matches_euler_maruyama_to_second_order() -> None:
    var = 0.3
    gm = gaussian(var)
    score = gm.score_fn()
    diffs = []
    for h in (0.02, 0.01, 0.005):
        sch = Schedule(torch.full((3,), h, dtype=F64))
        t_n = float(sch.times[-1])
        disc = mean_factor(lambda x, g: sample_path(discrete_backward, score, x, sch, generator=g)[1])
        em = mean_factor(lambda x, g: reverse_sde_euler(score, x, [t_n - h, t_n], generator=g))
        v = math.exp(-t_n) * var + 1 - math.exp(-t_n)
        assert disc == pytest.approx((1 - h / v) / math.sqrt(1 - h), rel=1e-12)
        assert em == pytest.approx(1 + h * (0.5 - 1 / v), rel=1e-12)
        diffs.append(abs(disc - em))
        # the noise of one step: √β_i z in both (same seed, start 0, score(0) = 0)
        d0 = sample_path(discrete_backward, score, torch.zeros(4, 1, dtype=F64), sch, generator=gen(6))[1]
        e0 = reverse_sde_euler(score, torch.zeros(4, 1, dtype=F64), [t_n - h, t_n], generator=gen(6))
        torch.testing.assert_close(d0, e0, rtol=1e-12, atol=0)
    assert all(dd < 10 * h * h for dd, h in zip(diffs, (0.02, 0.01, 0.005)))
    assert 3.5 < diffs[0] / diffs[1] < 4.5 and 3.5 < diffs[1] / diffs[2] < 4.5  # O(h²)


def shifted_score(score, schedule: Schedule):
    """The off-by-one trap: evaluate the score at t_{i−1} when asked for t_i."""
    times = schedule.times.tolist()

    def wrong(x: torch.Tensor, t: float) -> torch.Tensor:
        i = min(range(len(times)), key=lambda j: abs(times[j] - t))
        return score(x, times[i - 1])

    return wrong


def test_index_bookkeeping_beats_the_off_by_one_variant() -> None:
    """Over the whole chain, the mean map x_n -> E[x_0 | x_n] of a Gaussian target is known exactly:
    σ² e^{−T/2} / (e^{−T} σ² + 1 − e^{−T}) (here T = 1, σ² = 0.05). The library's update (score at t_i, β_i) gets closer to it
    than the variant with the score at t_{i−1}, and its error halves with the step size (first order)."""
    var = 0.05
    gm = gaussian(var)
    score = gm.score_fn()
    errors, wrong_errors = [], []
    for n in (50, 100, 200):
        sch = ramp(n, 1.0)
        T = float(sch.times[-1])
        exact = var * math.exp(-T / 2) / (math.exp(-T) * var + 1 - math.exp(-T))
        lib = mean_factor(lambda x, g: discrete_backward(score, x, sch, generator=g))
        wrong = mean_factor(lambda x, g: discrete_backward(shifted_score(score, sch), x, sch, generator=g))
        # the library uses exactly (t_i, β_i): the product of the per-step factors
        b, t = sch.betas.tolist(), sch.times.tolist()
        prod = math.prod((1 - b[i] / (math.exp(-t[i]) * var + 1 - math.exp(-t[i]))) / math.sqrt(1 - b[i])
                         for i in range(1, n + 1))
        assert lib == pytest.approx(prod, rel=1e-10)
        errors.append(abs(lib / exact - 1))
        wrong_errors.append(abs(wrong / exact - 1))
    assert all(w > 3 * e for w, e in zip(wrong_errors, errors)), (errors, wrong_errors)
    assert 1.6 < errors[0] / errors[1] < 2.4 and 1.6 < errors[1] / errors[2] < 2.4, errors


# -- recovering the ring mixture from N(0, I) at T ------------------------------------------
def geometric_grid(m: int, t_min: float = 1e-3, T: float = 10.0) -> torch.Tensor:
    """``m + 1`` forward times, evenly spaced in log t from ``t_min`` to ``T``."""
    return torch.logspace(math.log10(t_min), math.log10(T), m + 1, dtype=F64)


def run_sampler(name: str, ring: dict, n: int, seed: int = 1, sign: float = 1.0,
                coarse: bool = False) -> tuple[torch.Tensor, float]:
    """Run a sampler with ``n`` steps; returns (samples, time of the law they should follow).

    Default grids: the scaled linear schedule (T ≈ 10) and its times. ``coarse=True``: a geometric
    grid from 10⁻³ to 10 for the continuous samplers, constant β = 10/n for the discrete chain.
    """
    if coarse:
        sch = Schedule(torch.full((n,), 10.0 / n, dtype=F64)) if name == "discrete_backward" else None
        grid = geometric_grid(n)
    else:
        sch = scaled_linear(n)
        grid = sch.times[1:]
    score = ring["score"]
    if sign != 1.0:  # the wrong drift −½x + s instead of ½x + s: s̃ = s − x gives ½x + s̃ = −½x + s
        exact = score
        score = lambda x, t: exact(x, t) - x  # noqa: E731
    x_T = noise(N_RING, seed=seed)
    if name == "reverse_sde_euler":
        return reverse_sde_euler(score, x_T, grid, generator=gen(seed + 100)), float(grid[0])
    if name == "discrete_backward":
        return discrete_backward(score, x_T, sch, generator=gen(seed + 100)), 0.0
    if name == "probability_flow_heun":
        return probability_flow_heun(score, x_T, grid), float(grid[0])
    raise ValueError(name)


SAMPLERS = ["reverse_sde_euler", "discrete_backward", "probability_flow_heun"]


@pytest.mark.parametrize("name", SAMPLERS)
def test_samplers_recover_the_ring_and_improve_with_more_steps(name: str, ring: dict) -> None:
    x, t = run_sampler(name, ring, 1000)
    err_1000 = swd_to(ring["gm"], x, t)
    # within 1.5× the mean SWD between two exact samples of the same size
    assert err_1000 < 1.5 * ring["floor"], (err_1000, ring["floor"])
    # coarse grids (constant β needs n > T = 10 steps for β < 1)
    few, more = (12, 40) if name == "discrete_backward" else (6, 20)
    errs = {n: swd_to(ring["gm"], *run_sampler(name, ring, n, coarse=True)) for n in (few, more)}
    assert errs[few] > errs[more] > err_1000, (errs, err_1000)
    assert errs[few] > 3 * ring["floor"], (errs, ring["floor"])


@pytest.mark.parametrize("name", ["reverse_sde_euler", "discrete_backward"])
def test_wrong_drift_sign_does_not_recover_the_ring(name: str, ring: dict) -> None:
    x, t = run_sampler(name, ring, 200, sign=-1.0)
    assert swd_to(ring["gm"], x, t) > 5 * ring["floor"]


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_ddpm_ancestral_with_the_exact_eps_recovers_the_ring(variance: str, ring: dict) -> None:
    sch = scaled_linear(500)
    x = ddpm_ancestral(ring["gm"].eps_fn(sch), noise(N_RING, seed=3), sch, generator=gen(4), variance=variance)
    assert swd_to(ring["gm"], x) < 1.5 * ring["floor"]
    # and through the converters, from the OU score (ε at t_i rather than at the discrete marginal)
    x = ddpm_ancestral(eps_from_score(ring["score"], sch), noise(N_RING, seed=3), sch, generator=gen(4),
                       variance=variance)
    assert swd_to(ring["gm"], x) < 1.5 * ring["floor"]


def test_ddpm_ancestral_update_formula_and_no_noise_at_the_last_step() -> None:
    sch = linear_schedule(4)
    calls = []

    def eps(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        calls.append(i.clone())
        return torch.full_like(x, 0.5)

    x4 = noise(3, seed=1)
    path = sample_path(ddpm_ancestral, eps, x4, sch, generator=gen(2))
    assert path.shape == (5, 3, 2)
    assert [c.tolist() for c in calls] == [[i] * 3 for i in (4, 3, 2, 1)]
    assert all(c.dtype == torch.long for c in calls)
    b, ab = sch.betas.tolist(), sch.alpha_bars.tolist()
    expected_x0 = (path[1 - 0 + 2] - b[1] / math.sqrt(1 - ab[1]) * 0.5) / math.sqrt(1 - b[1])  # from x_1, no noise
    torch.testing.assert_close(path[4], expected_x0)
    # posterior variance β̃ gives smaller noise than β at every step
    d_beta = (ddpm_ancestral(eps, x4, sch, generator=gen(2))
              - ddpm_ancestral(lambda x, i: torch.zeros_like(x), x4, sch, generator=gen(2)))
    assert torch.isfinite(d_beta).all()


# -- probability flow ----------------------------------------------------------------------
def test_probability_flow_is_deterministic_and_reversible(ring: dict) -> None:
    grid = torch.linspace(0.05, 3.0, 201, dtype=F64)
    x0 = ring["gm"].diffuse(0.05).sample(500, gen(0))
    z = probability_flow_heun(ring["score"], x0, grid, direction="forward")
    torch.testing.assert_close(z, probability_flow_heun(ring["score"], x0, grid, direction="forward"))
    back = probability_flow_heun(ring["score"], z, grid, direction="backward")
    assert float((back - x0).abs().max()) < 1e-3
    path = sample_path(probability_flow_heun, ring["score"], x0, grid, direction="forward")
    assert path.shape == (201, 500, 2)
    torch.testing.assert_close(path[0], x0)
    torch.testing.assert_close(path[-1], z)


def test_probability_flow_heun_is_second_order_on_a_gaussian() -> None:
    """For a Gaussian target the flow is linear: x_t = √(v(t)/v(s)) x_s with v(t) = e^{−t}σ² + 1 − e^{−t}."""
    var = 0.2
    score = gaussian(var).score_fn()
    v = lambda t: math.exp(-t) * var + 1 - math.exp(-t)  # noqa: E731
    errs = []
    for m in (10, 20, 40):
        grid = torch.linspace(0.01, 5.0, m + 1, dtype=F64)
        out = probability_flow_heun(score, torch.ones(1, 1, dtype=F64), grid)
        errs.append(abs(float(out) - math.sqrt(v(0.01) / v(5.0))))
    assert 3.3 < errs[0] / errs[1] < 4.7 and 3.3 < errs[1] / errs[2] < 4.7, errs


# -- converters ----------------------------------------------------------------------------
def test_score_eps_converters_round_trip(ring: dict) -> None:
    sch = linear_schedule(20)
    gm = ring["gm"]
    eps = gm.eps_fn(sch)
    x = noise(7, seed=4)
    score = score_from_eps(eps, sch)
    for i in (1, 7, 20):
        exact = gm.diffuse_discrete(float(sch.alpha_bars[i])).score(x)
        torch.testing.assert_close(score(x, float(sch.times[i])), exact)  # a grid time maps to its step
        torch.testing.assert_close(score(x, float(sch.times[i]) + 0.2 * float(sch.betas[i])), exact)
        torch.testing.assert_close(eps_from_score(score, sch)(x, i), eps(x, i))
    steps = torch.tensor([1, 5, 5, 9, 20, 2, 3])
    torch.testing.assert_close(score(x, sch.times[steps]),
                               torch.stack([score(x[j:j + 1], float(sch.times[k]))[0] for j, k in enumerate(steps)]))
    torch.testing.assert_close(eps_from_score(score, sch)(x, steps), eps(x, steps))
    # eps_from_score of the OU score evaluates at t_i
    e = eps_from_score(gm.score_fn(), sch)(x, steps)
    ref = torch.stack([-math.sqrt(1 - float(sch.alpha_bars[k])) * gm.diffuse(float(sch.times[k])).score(x[j])
                       for j, k in enumerate(steps.tolist())])
    torch.testing.assert_close(e, ref)
    with pytest.raises(ValueError, match="outside this schedule's times"):
        score(x, 50.0)
    with pytest.raises(TypeError, match="takes a forward time"):
        score(x, "3")
    with pytest.raises(TypeError, match="for an integer step i call the ε-predictor"):  # a step is not a time
        score(x, 3)
    with pytest.raises(TypeError, match="takes a forward time"):
        score(x, steps)


# -- reproducibility, shapes and argument checks -------------------------------------------
def test_generators_make_runs_reproducible(ring: dict) -> None:
    sch = linear_schedule(20)
    x = noise(100)
    for run in (lambda g: reverse_sde_euler(ring["score"], x, sch.times[1:], generator=g),
                lambda g: discrete_backward(ring["score"], x, sch, generator=g),
                lambda g: ddpm_ancestral(ring["gm"].eps_fn(sch), x, sch, generator=g),
                lambda g: langevin(ring["score"], x, 0.01, 20, generator=g)):
        torch.testing.assert_close(run(gen(3)), run(gen(3)))
        assert not torch.equal(run(gen(3)), run(gen(4)))


def test_path_recorder_shapes_and_progress(ring: dict, capsys: pytest.CaptureFixture) -> None:
    sch = linear_schedule(10)
    x = noise(5)
    assert sample_path(reverse_sde_euler, ring["score"], x, sch.times[1:], generator=gen()).shape == (10, 5, 2)
    assert sample_path(discrete_backward, ring["score"], x, sch, generator=gen()).shape == (11, 5, 2)
    assert sample_path(ddpm_ancestral, ring["gm"].eps_fn(sch), x, sch, generator=gen()).shape == (11, 5, 2)
    assert sample_path(langevin, ring["score"], x, 0.1, 4, generator=gen()).shape == (5, 5, 2)
    rec = PathRecorder()
    out = discrete_backward(ring["score"], x, sch, generator=gen(), callback=rec)
    torch.testing.assert_close(rec.path[0], x)
    torch.testing.assert_close(rec.path[-1], out)
    assert rec.where == list(range(10, -1, -1))  # the step each state is at
    discrete_backward(ring["score"], x, sch, generator=gen(), callback=progress("discrete backward"))
    assert "discrete backward" in capsys.readouterr().err
    with pytest.raises(ValueError, match="nothing recorded"):
        PathRecorder().path


@settings(max_examples=20, deadline=None)
@given(grid=st.lists(st.one_of(st.floats(-1.0, 5.0), st.just(math.nan), st.just(math.inf)), min_size=0, max_size=6))
def test_bad_time_grids_are_rejected_and_good_ones_run(grid: list[float]) -> None:
    score = gaussian(0.5).score_fn()
    x = torch.zeros(3, 1, dtype=F64)
    ok = (len(grid) >= 2 and all(math.isfinite(t) for t in grid) and grid[0] > 0
          and all(b > a for a, b in zip(grid, grid[1:])))
    if ok:
        assert reverse_sde_euler(score, x, grid, generator=gen()).shape == x.shape
    else:
        with pytest.raises(ValueError, match="grid"):
            reverse_sde_euler(score, x, grid, generator=gen())


def test_bad_inputs_raise_clear_errors(ring: dict) -> None:
    s, sch, x = ring["score"], linear_schedule(5), noise(4)
    with pytest.raises(ValueError, match=r"grid must lie in \(0, T\]"):
        reverse_sde_euler(s, x, [0.0, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        probability_flow_heun(s, x, [2.0, 1.0])
    with pytest.raises(ValueError, match="1-D increasing grid"):
        probability_flow_heun(s, x, torch.ones(2, 2))
    with pytest.raises(ValueError, match="finite"):
        reverse_sde_euler(s, x, [0.1, float("nan")])
    with pytest.raises(ValueError, match="x must be finite"):
        reverse_sde_euler(s, torch.full((2, 2), float("inf")), [0.1, 1.0])
    with pytest.raises(ValueError, match="step_size must be a finite number > 0"):
        langevin(s, x, 0.0, 10)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        langevin(s, x, 0.1, 0)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        langevin(s, x, 0.1, 2.5)
    with pytest.raises(TypeError, match="score must be a callable"):
        discrete_backward(None, x, sch)
    with pytest.raises(TypeError, match="grid of this sampler must be a ddpm_lib.Schedule"):
        discrete_backward(s, x, [0.1, 0.2])
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        discrete_backward(s, x, sch, generator=3)
    with pytest.raises(ValueError, match="variance must be 'beta' or 'beta_tilde'"):
        ddpm_ancestral(ring["gm"].eps_fn(sch), x, sch, variance="sigma")
    with pytest.raises(ValueError, match="direction must be 'backward' or 'forward'"):
        probability_flow_heun(s, x, [0.1, 1.0], direction="up")
    with pytest.raises(ValueError, match=r"score must return a tensor of the state's shape \(4, 2\)"):
        discrete_backward(lambda y, t: y[:, :1], x, sch)
    with pytest.raises(ValueError, match=r"x must have \(batch, \.\.\.\)"):
        ddpm_ancestral(ring["gm"].eps_fn(sch), torch.zeros(2), sch)


def test_ddim_is_deterministic_and_recovers_the_ring():
    """DDIM with the exact ε* is a deterministic map onto the ring: right radius, modes evenly filled."""
    from ddpm_lib import linear_schedule
    from ddpm_lib.mixtures import ring_mixture
    from ddpm_lib.samplers import ddim

    gm = ring_mixture()                       # 8 modes on the circle of radius 3, std 0.3
    sched = linear_schedule(1000)
    x_n = torch.randn(4000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = ddim(gm.eps_fn(sched), x_n, sched)
    assert torch.equal(out, ddim(gm.eps_fn(sched), x_n, sched))
    radius = out.norm(dim=1)
    assert abs(float(radius.mean()) - 3.0) < 0.05          # the radius of the data, E|x| ≈ 3.0
    assert abs(float(radius.std()) - 0.3) < 0.05           # the modes' width
    counts = torch.bincount(gm.responsibilities(out).argmax(dim=1), minlength=8).double()
    sd = (4000 * (1 / 8) * (7 / 8)) ** 0.5                  # binomial sd of a mode's count
    assert bool(((counts - 500).abs() < 4 * sd).all())
    coarse = ddim(gm.eps_fn(sched), x_n, sched, steps=10)
    assert abs(float(coarse.norm(dim=1).std()) - 0.3) > abs(float(radius.std()) - 0.3)  # more steps, better
    path = sample_path(ddim, gm.eps_fn(sched), x_n[:5], sched, steps=10)
    assert path.shape == (11, 5, 2)
    with pytest.raises(ValueError, match="at most the schedule's n = 1000"):
        ddim(gm.eps_fn(sched), x_n, sched, steps=5000)


def test_on_original_steps_evaluates_the_predictor_at_tau():
    from ddpm_lib import linear_schedule
    from ddpm_lib.samplers import on_original_steps

    seen = []
    sub, taus = linear_schedule(100).respace(10)
    eps = on_original_steps(lambda x, i: (seen.append(i.clone()), torch.zeros_like(x))[1], taus)
    eps(torch.zeros(3, 2), torch.full((3,), 4, dtype=torch.long))
    assert seen[0].tolist() == [40, 40, 40]


# -- behaviours pinned by the mutation review (tests/mutation/equivalent.md) ---------------
def test_score_from_eps_maps_each_time_to_the_nearest_step_and_ties_to_the_earlier() -> None:
    """Dyadic β make the times t_i = β_1 + … + β_i and the midpoints exact, so the ties are real ties.
    With ε(x, i) = i x the score is −i x / σ_i, σ_i² = 1 − Π_{j≤i} (1 − β_j), computed here by hand."""
    betas = [0.125, 0.125, 0.25, 0.375]                   # t = 0, 1/8, 1/4, 1/2, 7/8; t_max = 7/8 + β_4 = 5/4
    sch = Schedule(torch.tensor(betas, dtype=F64))
    sigma = [math.sqrt(1 - math.prod(1 - b for b in betas[:i])) for i in range(5)]
    score = score_from_eps(lambda x, i: x * i.to(x.dtype)[:, None], sch)
    cases = [(0.0, 1), (0.0625, 1), (0.1875, 1), (0.2, 2), (0.375, 2), (0.4, 3), (0.6875, 3), (0.7, 4), (0.875, 4),
             (1.25, 4)]
    x = torch.ones(len(cases), 1, dtype=F64)
    want = torch.tensor([[-i / sigma[i]] for _, i in cases], dtype=F64)
    for k, (t, _) in enumerate(cases):
        torch.testing.assert_close(score(x[k:k + 1], t), want[k:k + 1], rtol=1e-15, atol=0)
    times = torch.tensor([t for t, _ in cases], dtype=F64)
    for tt in (times, times.to(torch.float32)):
        torch.testing.assert_close(score(x, tt), want, rtol=1e-15, atol=0)
    assert score(x.to(torch.float32), times).dtype == torch.float32          # the score comes back in x's dtype
    for bad in (1.25 + 1e-9, -1e-9):
        with pytest.raises(ValueError, match="outside this schedule's times"):
            score(x[:1], bad)
    for bad in (1.25 + 1e-9, -1e-9):
        with pytest.raises(ValueError, match="times must lie in this schedule's range"):
            score(x, torch.cat([times[:-1], torch.tensor([bad], dtype=F64)]))


def test_converters_name_what_was_wrong() -> None:
    from ddpm_lib.samplers import on_original_steps

    sch = linear_schedule(10)
    for call in (lambda: score_from_eps(3, sch), lambda: on_original_steps(3, torch.arange(11))):
        with pytest.raises(TypeError, match=r"\beps\b"):
            call()
    with pytest.raises(TypeError, match=r"\bscore\b"):
        eps_from_score(3, sch)
    with pytest.raises(ValueError, match=r"\bi\b"):
        eps_from_score(lambda x, t: x, sch)(torch.ones(2, 1), 0)
    score = score_from_eps(lambda x, i: x, sch)
    with pytest.raises(TypeError, match="got str"):
        score(torch.ones(2, 1), "3")
    with pytest.raises(TypeError, match="got torch.int64"):
        score(torch.ones(2, 1), torch.tensor([1, 2]))


def test_on_original_steps_passes_integer_steps_even_for_float_taus() -> None:
    from ddpm_lib.samplers import on_original_steps

    seen = []
    eps = on_original_steps(lambda x, i: (seen.append(i), torch.zeros_like(x))[1], torch.tensor([0.0, 10.0, 20.0]))
    eps(torch.zeros(2, 1), torch.tensor([2, 1]))
    assert seen[0].dtype == torch.long and seen[0].tolist() == [20, 10]


def test_eps_from_score_per_sample_steps_need_a_matching_batch() -> None:
    """ε(x, i) = −σ_i s(x, t_i): a batch of one step is that step; steps of another batch size are refused."""
    sch = linear_schedule(10)
    eps = eps_from_score(lambda x, t: x * t, sch)                     # s(x, t) = t x
    x = torch.ones(1, 1, dtype=F64)
    want = -math.sqrt(1 - float(sch.alpha_bars[3])) * float(sch.times[3])
    torch.testing.assert_close(eps(x, torch.tensor([3])), torch.full((1, 1), want, dtype=F64), rtol=1e-15, atol=0)
    with pytest.raises(ValueError, match="per-sample steps"):
        eps(torch.ones(5, 1, dtype=F64), torch.tensor([3, 3]))
    per_sample = eps_from_score(lambda x, t: x * t[:, None], sch)        # distinct steps: the per-sample path
    assert per_sample(torch.ones(2, 1), torch.tensor([3, 5])).dtype == torch.float32


# -- behaviours pinned by the mutation review of _common.py and stochastic.py ---------------
def wavy_score(x: torch.Tensor, t: float) -> torch.Tensor:
    """A non-linear score that depends on t: s(x, t) = −t x + sin x."""
    return -t * x + torch.sin(x)


def info_recorder() -> tuple[list, Callable[[dict], None]]:
    """A list and a callback that appends a copy of every ``info`` it is given to it."""
    seen: list = []
    return seen, lambda info: seen.append(dict(info))


def check_infos(seen: list, path: list, key: str, positions: list) -> None:
    """The callback saw k = 0..m, n_steps = m, the states of ``path`` and the positions, exactly."""
    m = len(path) - 1
    assert [sorted(s) for s in seen] == [sorted(["k", "n_steps", "x", key])] * (m + 1)
    assert [s["k"] for s in seen] == list(range(m + 1)) and [s["n_steps"] for s in seen] == [m] * (m + 1)
    assert [s[key] for s in seen] == positions
    for s, want in zip(seen, path):
        torch.testing.assert_close(s["x"], want, rtol=1e-14, atol=1e-15)


def test_langevin_and_euler_maruyama_are_their_update_formulas_step_by_step() -> None:
    """Each step rebuilt by hand (noise z_k = the k-th float64 draw of an equally seeded generator):
    Langevin x ← x + h s(x, t) + √(2h) z at its fixed t; Euler–Maruyama from t_j to t_{j−1}
    x ← x + h (½ x + s(x, t_j)) + √h z, the callback at t_{j−1}. The grid is a list of decimals, which
    float32 would round: the score must see them exactly."""
    x0 = noise(3, 2, seed=7)
    h, n, t = 0.05, 4, 0.7
    seen, cb = info_recorder()
    out = langevin(wavy_score, x0, h, n, t=t, generator=gen(8), callback=cb)
    g, x, path = gen(8), x0.clone(), [x0]
    for _ in range(n):
        x = x + h * wavy_score(x, t) + math.sqrt(2 * h) * torch.randn(x.shape, generator=g, dtype=F64)
        path.append(x)
    torch.testing.assert_close(out, x, rtol=1e-14, atol=1e-15)
    check_infos(seen, path, "t", [t] * (n + 1))

    grid = [0.1, 0.3, 0.35, 0.9]
    seen, cb = info_recorder()
    out = reverse_sde_euler(wavy_score, x0, grid, generator=gen(9), callback=cb)
    g, x, path = gen(9), x0.clone(), [x0]
    for j in (3, 2, 1):
        step = grid[j] - grid[j - 1]
        z = torch.randn(x.shape, generator=g, dtype=F64)
        x = x + step * (0.5 * x + wavy_score(x, grid[j])) + math.sqrt(step) * z
        path.append(x)
    torch.testing.assert_close(out, x, rtol=1e-14, atol=1e-15)
    check_infos(seen, path, "t", [0.9, 0.35, 0.3, 0.1])
    rec = PathRecorder()
    reverse_sde_euler(wavy_score, x0, grid, generator=gen(9), callback=rec)
    assert rec.where == [0.9, 0.35, 0.3, 0.1]                     # a time-grid sampler records its times
    assert float(reverse_sde_euler(lambda y, s: torch.zeros_like(y), x0[:, :1], [0.5, 1.0], generator=gen(1))
                 .std()) > 0                                       # a 1-D state (batch, 1) is fine too


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_the_chain_samplers_are_their_update_formulas_step_by_step(variance: str) -> None:
    """discrete_backward: x ← (x + β_i s(x, t_i)) / √(1 − β_i) + √β_i z; ddpm_ancestral:
    x ← (x − β_i/√(1 − ᾱ_i) ε(x, i)) / √(1 − β_i) + σ_i z with σ_i² = β_i or (1 − ᾱ_{i−1}) β_i / (1 − ᾱ_i);
    no noise at i = 1 in both. ᾱ and t are rebuilt here from the β by hand."""
    betas = [0.1, 0.25, 0.05, 0.4]
    n = len(betas)
    b = [0.0] + betas
    t = [sum(b[:i + 1]) for i in range(n + 1)]
    ab = [math.prod(1 - bb for bb in b[1:i + 1]) for i in range(n + 1)]
    sig2 = b if variance == "beta" else [0.0] + [(1 - ab[i - 1]) / (1 - ab[i]) * b[i] for i in range(1, n + 1)]
    sch = Schedule(torch.tensor(betas, dtype=F64))
    x0 = noise(3, 2, seed=11)

    def eps(x: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        assert i.dtype == torch.long and i.shape == (x.shape[0],)
        return torch.cos(x) * i.to(x.dtype)[:, None]

    for which in ("discrete_backward", "ddpm_ancestral"):
        seen, cb = info_recorder()
        if which == "discrete_backward":
            out = discrete_backward(wavy_score, x0, sch, generator=gen(12), callback=cb)
        else:
            out = ddpm_ancestral(eps, x0, sch, generator=gen(12), callback=cb, variance=variance)
        g, x, path = gen(12), x0.clone(), [x0]
        for i in range(n, 0, -1):
            if which == "discrete_backward":
                x = (x + b[i] * wavy_score(x, t[i])) / math.sqrt(1 - b[i])
                sd = math.sqrt(b[i])
            else:
                x = (x - b[i] / math.sqrt(1 - ab[i]) * eps(x, torch.full((3,), i))) / math.sqrt(1 - b[i])
                sd = math.sqrt(sig2[i])
            if i > 1:
                x = x + sd * torch.randn(x.shape, generator=g, dtype=F64)
            path.append(x)
        torch.testing.assert_close(out, x, rtol=1e-13, atol=1e-14)
        check_infos(seen, path, "i", [4, 3, 2, 1, 0])


def test_path_recorder_starts_afresh_when_reused() -> None:
    rec = PathRecorder()
    sch = Schedule(torch.full((4,), 0.1, dtype=F64))
    discrete_backward(wavy_score, noise(2), sch, generator=gen(), callback=rec)
    x = noise(2, seed=5)
    out = langevin(wavy_score, x, 0.1, 2, generator=gen(), callback=rec)
    assert rec.path.shape == (3, 2, 2) and rec.where == [0.0, 0.0, 0.0]
    torch.testing.assert_close(rec.path[0], x)
    torch.testing.assert_close(rec.path[-1], out)


def test_chain_calls_each_callback_in_turn_and_sample_path_passes_the_callers_on() -> None:
    from ddpm_lib.samplers import chain

    calls: list = []
    f = lambda info: calls.append(("f", info["k"]))  # noqa: E731
    g = lambda info: calls.append(("g", info["k"]))  # noqa: E731
    assert chain() is None and chain(None, None) is None
    chain(None, f)({"k": 1})
    chain(g)({"k": 2})
    chain(f, None, g)({"k": 3})
    assert calls == [("f", 1), ("g", 2), ("f", 3), ("g", 3)]
    calls.clear()
    path = sample_path(langevin, wavy_score, noise(2), 0.1, 3, generator=gen(), callback=f)
    assert path.shape == (4, 2, 2) and calls == [("f", k) for k in range(4)]


def test_progress_draws_one_bar_that_counts_every_step(capsys: pytest.CaptureFixture) -> None:
    langevin(wavy_score, noise(2), 0.1, 7, generator=gen(), callback=progress("seven steps"))
    err = capsys.readouterr().err
    assert "seven steps" in err and "7/7" in err and "8/7" not in err and "14/7" not in err


def test_sampler_argument_errors_name_what_was_wrong() -> None:
    sch, x = linear_schedule(3), noise(4)
    ok = lambda y, t: torch.zeros_like(y)  # noqa: E731
    with pytest.raises(TypeError, match=r"^callback must be a callable, got int$"):
        discrete_backward(ok, x, sch, callback=3)
    with pytest.raises(TypeError, match=r"^eps must be a callable, got NoneType$"):
        ddpm_ancestral(None, x, sch)
    with pytest.raises(TypeError, match=r"^generator must be a torch.Generator or None, got int$"):
        langevin(ok, x, 0.1, 2, generator=3)
    with pytest.raises(ValueError, match=r"^score must return a tensor of the state's shape \(4, 2\), got list$"):
        discrete_backward(lambda y, t: [0.0], x, sch)
    nan_at_2 = lambda y, t: y * (math.nan if t < 0.7 else 1.0)  # noqa: E731
    with pytest.raises(ValueError, match=r"^score returned NaN or infinity at step 2 of 3 \(t = 0\.6\); "
                                         r"the sampler stopped there$"):
        reverse_sde_euler(nan_at_2, x, [0.2, 0.4, 0.6, 0.8], generator=gen())
    with pytest.raises(ValueError, match=r"^eps returned NaN or infinity at step 1 of 3 \(i = 3\)"):
        ddpm_ancestral(lambda y, i: y * math.inf, x, sch)
    nan_at_t2 = lambda y, t: y * (math.nan if t < float(sch.times[3]) else 1.0)  # noqa: E731
    with pytest.raises(ValueError, match=r"^score returned NaN or infinity at step 2 of 3 \(i = 2\); "):
        discrete_backward(nan_at_t2, x, sch, generator=gen())
    with pytest.raises(ValueError, match=r"^score must return a tensor of the state's shape \(4, 2\), got \(4, 1\)$"):
        langevin(lambda y, t: y[:, :1], x, 0.1, 2)
    with pytest.raises(TypeError, match=r"^x must be the start state \(a tensor\), got a Schedule"):
        discrete_backward(ok, sch, sch)
    with pytest.raises(TypeError, match=r"^x must be a tensor"):
        langevin(ok, "x", 0.1, 2)
    with pytest.raises(ValueError, match=r"^x must have at least 1 dimension, got shape \(\)$"):
        langevin(ok, torch.tensor(1.0), 0.1, 2)
    with pytest.raises(ValueError, match=r"^x must have \(batch, \.\.\.\) with at least 2 dimensions, "
                                         r"got shape \(4,\)$"):
        ddpm_ancestral(ok, torch.zeros(4), sch)
    with pytest.raises(ValueError, match=r"^x must not be empty, got shape \(0, 2\)$"):
        discrete_backward(ok, torch.zeros(0, 2), sch)
    with pytest.raises(ValueError, match=r"^x must be finite"):
        langevin(ok, torch.tensor([math.nan]), 0.1, 2)
    with pytest.raises(ValueError, match=r"^t must satisfy t >= 0"):
        langevin(ok, x, 0.1, 2, t=-1.0)
    assert langevin(ok, torch.zeros(1), 0.1, 2, generator=gen()).shape == (1,)     # the smallest states pass
    assert ddpm_ancestral(ok, torch.zeros(1, 1), sch, generator=gen()).shape == (1, 1)
    with pytest.raises(TypeError, match=r"^the grid of this sampler must be a ddpm_lib.Schedule, got Tensor "
                                        r"\(the order is sampler\(fn, x, grid\)\)$"):
        discrete_backward(ok, x, sch.times)
    with pytest.raises(TypeError, match=r"^the grid of this sampler must be a ddpm_lib.Schedule, got list$"):
        ddpm_ancestral(ok, x, [0.1, 0.2])


def test_time_grid_errors_name_the_grid_and_its_exact_bounds() -> None:
    x = noise(2)
    ok = lambda y, t: torch.zeros_like(y)  # noqa: E731
    with pytest.raises(TypeError, match=r"^grid must be a time grid for this sampler, got a Schedule; "):
        reverse_sde_euler(ok, x, linear_schedule(3))
    for bad, kind in (("0.1 0.2", "str"), (b"ab", "bytes"), (["a", "b"], "list"), (object(), "object")):
        with pytest.raises(TypeError, match=rf"^grid must be a 1-D sequence or tensor of times, got {kind}$"):
            reverse_sde_euler(ok, x, bad)
    for bad in ([0.5], torch.ones(1, 3), [[0.1, 0.2]]):
        with pytest.raises(ValueError, match=r"^grid must be a 1-D increasing grid of at least 2 forward times, "):
            reverse_sde_euler(ok, x, bad)
    with pytest.raises(ValueError, match=r"^grid must be finite"):
        reverse_sde_euler(ok, x, [0.1, math.inf])
    with pytest.raises(TypeError, match=r"^grid must hold real numbers"):
        reverse_sde_euler(ok, x, torch.tensor([1 + 0j, 2 + 0j]))
    with pytest.raises(ValueError, match=r"^grid must lie in \(0, T\]: its first entry must be > 0 .*, got -0\.1$"):
        reverse_sde_euler(ok, x, [-0.1, 0.2])
    for bad in ([0.1, 0.2, 0.2], [0.1, 0.3, 0.2]):                     # each entry above the one before it
        with pytest.raises(ValueError, match=r"^grid must be strictly increasing"):
            reverse_sde_euler(ok, x, bad)
    assert reverse_sde_euler(ok, x, [1e-300, 1e-299], generator=gen()).shape == x.shape       # tiny > 0 is fine
    seen = []
    reverse_sde_euler(lambda y, t: (seen.append(t), y)[1], x, torch.tensor([1, 2, 2**24 + 1]), generator=gen())
    assert seen == [2.0**24 + 1, 2.0] and all(type(t) is float for t in seen)  # integer times: float64, not float32
