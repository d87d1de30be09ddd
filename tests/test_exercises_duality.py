"""The checker of the chapter "Forward–backward duality": the reference passes, plausible slips get named."""
import math

import pytest
import torch

from ddpm_lib import forward
from ddpm_course.exercises import check
from ddpm_course.exercises.duality import EXERCISE_ID as EXERCISE
from ddpm_course.solutions.duality import kl_reference



@pytest.fixture(autouse=True)
def float64_default():
    """These checks run in float64, as the notebook does; restore the default afterwards."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def reference(mu, var, T):
    a = forward.ou_mean_scale(torch.as_tensor(T, dtype=mu.dtype))
    m, v = a * mu, a**2 * var + forward.ou_variance(torch.as_tensor(T, dtype=mu.dtype))
    return 0.5 * (v + m**2 - 1 - torch.log(v)).sum()


def make(mean_exp=0.5, var_exp=1.0, log_sign=-1.0, half=0.5, reverse=False, total=True, noise=True):
    def fn(mu, var, T):
        m = math.exp(-mean_exp * T) * mu
        a2 = math.exp(-var_exp * T)
        v = a2 * var + (1 - a2 if noise else 0.0)
        if reverse:
            per = half * (1 / v + m**2 / v - 1 + torch.log(v))
        else:
            per = half * (v + m**2 - 1 + log_sign * torch.log(v))
        return per.sum() if total else per
    return fn


def test_reference_passes():
    fb = check(EXERCISE, reference)
    assert fb.passed, fb.hint


def test_library_reference_matches_sympy_closed_form():
    mu, var = torch.tensor([1.0]), torch.tensor([0.25])
    T = 1.0
    m, v = math.exp(-T / 2), math.exp(-T) * 0.25 + 1 - math.exp(-T)
    assert float(kl_reference(mu, var, T)) == pytest.approx(0.5 * (v + m**2 - 1 - math.log(v)))


def test_float_return_passes():
    fb = check(EXERCISE, lambda mu, var, T: float(reference(mu, var, T)))
    assert fb.passed, fb.hint


@pytest.mark.parametrize("kwargs, words", [
    (dict(mean_exp=1.0), "e^{−T/2}"),
    (dict(var_exp=0.5), "variance uses e^{−T/2}"),
    (dict(mean_exp=1.0, var_exp=0.5), "swapped"),
    (dict(log_sign=0.0), "log term of the Gaussian KL is missing"),
    (dict(log_sign=+1.0), "wrong sign"),
    (dict(half=1.0), "½"),
    (dict(reverse=True), "other direction"),
    (dict(noise=False), "1 − e^{−T}"),
    (dict(total=False), "sum over the d coordinates"),
])
def test_wrong_answers_get_named(kwargs, words):
    fb = check(EXERCISE, make(**kwargs))
    assert not fb.passed
    assert words in fb.hint, fb.hint


def test_unknown_mistake_gets_generic_hint():
    fb = check(EXERCISE, lambda mu, var, T: reference(mu, var, T) + 0.1)
    assert not fb.passed
    assert "none of the usual mistakes" in fb.hint


def test_crash_is_feedback():
    def bad(mu, var, T):
        raise RuntimeError("boom")
    fb = check(EXERCISE, bad)
    assert not fb.passed and "RuntimeError" in fb.hint


def test_nan_is_feedback():
    fb = check(EXERCISE, lambda mu, var, T: torch.tensor(float("nan")))
    assert not fb.passed and "NaN" in fb.hint


def test_wrong_shape_is_feedback():
    fb = check(EXERCISE, lambda mu, var, T: torch.zeros(5))
    assert not fb.passed and "must have shape ()" in fb.hint
