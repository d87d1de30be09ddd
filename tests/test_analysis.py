"""Tests of ddpm_lib.analysis: the symbolic generator, current and Fokker–Planck operator."""
import pytest
import sympy as sp

from ddpm_lib import analysis as A

x, y, t = sp.symbols("x y t", real=True)


def test_gaussian_pdf_integrates_to_one_and_has_its_moments():
    m = sp.symbols("m", real=True)
    v = sp.symbols("v", positive=True)
    p = A.gaussian_pdf(x, m, v)
    assert sp.simplify(sp.integrate(p, (x, -sp.oo, sp.oo))) == 1
    assert sp.simplify(sp.integrate(x * p, (x, -sp.oo, sp.oo)) - m) == 0
    assert sp.simplify(sp.integrate((x - m) ** 2 * p, (x, -sp.oo, sp.oo)) - v) == 0


def test_heat_kernel_solves_fokker_planck_with_one_half():
    p = A.gaussian_pdf(x, 0, t)                        # Brownian motion: f = 0, g = 1
    assert sp.simplify((sp.diff(p, t) - A.fokker_planck(p, 0, 1, x)) / p) == 0
    # the factor 1/2 matters: with g^2 instead of g^2/2 it is not a solution
    assert sp.simplify((sp.diff(p, t) - sp.diff(p, x, 2)) / p) != 0


def test_ou_transition_solves_fokker_planck():
    x0 = sp.symbols("x_0", real=True)
    tp = sp.symbols("t", positive=True)
    p = A.gaussian_pdf(x, sp.exp(-tp / 2) * x0, 1 - sp.exp(-tp))
    assert sp.simplify((sp.diff(p, tp) - A.fokker_planck(p, -x / 2, 1, x)) / p) == 0


def test_gibbs_density_has_zero_langevin_current_in_2d():
    U = sp.Function("U")(x, y)
    p = sp.exp(-U)
    s = A.score(p, [x, y])
    assert sp.simplify(A.probability_current(p, s, sp.sqrt(2), [x, y])) == sp.zeros(2, 1)
    assert sp.simplify(A.fokker_planck(p, s, sp.sqrt(2), (x, y))) == 0


def test_fokker_planck_is_the_adjoint_of_the_generator():
    f, gfun, h, p = (sp.Function(n)(x) for n in "fghp")
    lhs = h * A.fokker_planck(p, f, gfun, x) - p * A.generator(h, f, gfun, x)
    boundary = -h * f * p + (h * sp.diff(gfun**2 * p, x) - gfun**2 * p * sp.diff(h, x)) / 2
    assert sp.simplify(lhs - sp.diff(boundary, x)) == 0


def test_generator_of_x_squared_and_state_dependent_noise():
    assert sp.simplify(A.generator(x**2, -x / 2, 1, x) - (1 - x**2)) == 0
    # current with g(x) = x: J = f p - (1/2) d/dx (x^2 p)
    p = sp.Function("p")(x)
    J = A.probability_current(p, 0, x, x)
    assert sp.simplify(J[0] + sp.diff(x**2 * p, x) / 2) == 0


def test_score_returns_an_expression_for_one_symbol():
    assert sp.simplify(A.score(A.gaussian_pdf(x, 0, 1), x) + x) == 0


@pytest.mark.parametrize("coords", ["x", 3, [], ["x"]])
def test_bad_coordinates_raise_type_error(coords):
    with pytest.raises(TypeError, match="coords"):
        A.fokker_planck(x, 0, 1, coords)


def test_drift_length_must_match_coordinates():
    with pytest.raises(ValueError, match="2 coordinates"):
        A.generator(x * y, [x], 1, [x, y])


def test_nonpositive_variance_is_refused():
    with pytest.raises(ValueError, match="positive"):
        A.gaussian_pdf(x, 0, -1)
