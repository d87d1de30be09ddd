"""The OU process and the VP chain: formulas (symbolic), samplers (Monte Carlo), bad input."""
import math

import pytest
import sympy as sp
import torch

from ddpm_lib import forward as F
from ddpm_lib import linear_schedule


def test_ou_marginal_solves_fokker_planck():
    x, x0 = sp.symbols("x x0", real=True)
    t = sp.symbols("t", positive=True)
    m, v = F.ou_mean_scale(t) * x0, F.ou_variance(t)
    p = sp.exp(-(x - m) ** 2 / (2 * v)) / sp.sqrt(2 * sp.pi * v)
    g = F.ou_diffusion()
    fp = sp.diff(p, t) + sp.diff(F.ou_drift(x) * p, x) - sp.Rational(1, 2) * g ** 2 * sp.diff(p, x, 2)
    assert sp.simplify(fp / p) == 0


def test_variance_preservation_formulas():
    t, beta, ab = sp.symbols("t beta abar", positive=True)
    assert sp.simplify(F.ou_mean_scale(t) ** 2 + F.ou_variance(t) - 1) == 0
    x, e = sp.symbols("x e")
    step = F.vp_step(x, beta, e)
    assert sp.expand(step.coeff(x) ** 2 + step.coeff(e) ** 2) == 1
    marg = F.vp_marginal(x, ab, e)
    assert sp.expand(marg.coeff(x) ** 2 + marg.coeff(e) ** 2) == 1


def test_formulas_work_on_tensors_and_floats():
    assert F.ou_mean_scale(2.0) == pytest.approx(math.exp(-1))
    assert float(F.ou_variance(torch.tensor(2.0))) == pytest.approx(1 - math.exp(-2))


def test_ou_sample_moments():
    g = torch.Generator().manual_seed(0)
    x0 = torch.full((200_000, 1), 2.0, dtype=torch.float64)
    xt = F.ou_sample(x0, 0.7, generator=g)
    se_mean = math.sqrt((1 - math.exp(-0.7)) / x0.shape[0])
    assert abs(float(xt.mean()) - 2 * math.exp(-0.35)) < 5 * se_mean
    assert float(xt.var()) == pytest.approx(1 - math.exp(-0.7), rel=0.02)


def test_ou_sample_per_sample_times():
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    xt = F.ou_sample(x0, torch.tensor([0.0, 1.0, 2.0]), generator=torch.Generator().manual_seed(1))
    assert torch.equal(xt[0], torch.zeros(2, dtype=torch.float64))  # t = 0 adds no noise
    with pytest.raises(ValueError, match="batch size 2"):
        F.ou_sample(x0, torch.tensor([1.0, 2.0]))


def test_euler_maruyama_matches_exact_transition():
    g = torch.Generator().manual_seed(2)
    x0 = torch.full((100_000,), 1.5, dtype=torch.float64)
    xT = F.ou_euler_maruyama(x0, torch.linspace(0, 1, 201), generator=g)
    assert float(xT.mean()) == pytest.approx(1.5 * math.exp(-0.5), abs=0.01)
    assert float(xT.var()) == pytest.approx(1 - math.exp(-1), rel=0.02)
    path = F.ou_euler_maruyama(x0[:5], [0.0, 0.5, 1.0], return_path=True)
    assert path.shape == (3, 5)


def test_q_sample_matches_markov_chain_in_law():
    s = linear_schedule(200, 1e-3, 0.05)
    g = torch.Generator().manual_seed(3)
    x0 = torch.full((100_000, 1), -1.0, dtype=torch.float64)
    chain = F.markov_chain(s, x0, generator=g)
    direct, _ = F.q_sample(s, x0, s.n, generator=g)
    ab = float(s.alpha_bars[-1])
    for x in (chain, direct):
        assert float(x.mean()) == pytest.approx(-math.sqrt(ab), abs=0.015)
        assert float(x.var()) == pytest.approx(1 - ab, rel=0.02)


def test_q_sample_with_given_noise_is_the_closed_form():
    s = linear_schedule(10)
    x0, eps = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    i = torch.tensor([1, 2, 5, 10])
    xi, e = F.q_sample(s, x0, i, noise=eps)
    ab = s.alpha_bars[i][:, None]
    assert torch.allclose(xi, ab.sqrt() * x0 + (1 - ab).sqrt() * eps)
    assert e is eps or torch.equal(e, eps)
    x_zero, _ = F.q_sample(s, x0, 0, noise=eps)
    assert torch.equal(x_zero, x0)


def test_markov_chain_path_shape():
    s = linear_schedule(7)
    path = F.markov_chain(s, torch.zeros(2, 2, dtype=torch.float64), return_path=True)
    assert path.shape == (8, 2, 2) and torch.equal(path[0], torch.zeros(2, 2, dtype=torch.float64))


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: F.ou_sample(torch.zeros(2), -1.0), ValueError, "t must satisfy t >= 0"),
    (lambda: F.ou_sample(torch.zeros(2), float("nan")), ValueError, "finite time"),
    (lambda: F.ou_sample(torch.tensor([float("nan")]), 1.0), ValueError, "x0 must be finite"),
    (lambda: F.ou_euler_maruyama(torch.zeros(2), [0.0, 0.5, 0.4]), ValueError, "strictly increasing"),
    (lambda: F.ou_euler_maruyama(torch.zeros(2), [-1.0, 0.5]), ValueError, "start at a time >= 0"),
    (lambda: F.ou_euler_maruyama(torch.zeros(2), [0.5]), ValueError, "at least 2 times"),
    (lambda: F.q_sample(linear_schedule(5), torch.zeros(2, 2), 6), ValueError, r"\[0, 5\]"),
    (lambda: F.q_sample(linear_schedule(5), torch.zeros(2, 2), 1, noise=torch.zeros(3, 2)), ValueError,
     "same shape"),
    (lambda: F.q_sample(linear_schedule(5), torch.zeros(2, 2), torch.tensor([1, 2, 3])), ValueError,
     "batch size 3"),
    (lambda: F.ou_sample("abc", 1.0), TypeError, "x0 must be a tensor"),
])
def test_bad_input(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.parametrize("call, msg", [
    (lambda: F.ou_variance(-1), "t must satisfy t >= 0"),
    (lambda: F.ou_variance(torch.tensor([0.5, -0.1])), "t must satisfy t >= 0"),
    (lambda: F.ou_mean_scale(float("nan")), "t must be a finite time"),
    (lambda: F.ou_mean_scale(sp.Integer(-2)), "t must satisfy t >= 0"),
    (lambda: F.vp_step(1.0, 1.5, 0.0), r"beta must lie in \[0, 1\]"),
    (lambda: F.vp_step(1.0, -0.1, 0.0), r"beta must lie in \[0, 1\]"),
    (lambda: F.vp_marginal(1.0, float("nan"), 0.0), r"alpha_bar must lie in \[0, 1\]"),
    (lambda: F.vp_marginal(1.0, torch.tensor([0.5, 2.0]), 0.0), r"alpha_bar must lie in \[0, 1\]"),
])
def test_formula_functions_refuse_values_outside_their_domain(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


def test_formula_functions_still_take_symbols():
    t, b, x = sp.symbols("t beta x", positive=True)
    assert sp.simplify(F.ou_variance(t) - (1 - sp.exp(-t))) == 0
    assert sp.simplify(F.vp_step(x, b, 0) - sp.sqrt(1 - b) * x) == 0
    assert F.ou_mean_scale(sp.Integer(0)) == 1
