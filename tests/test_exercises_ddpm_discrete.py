"""The checker of the DDPM chapter's coding exercise passes the reference and names each mistake."""
from __future__ import annotations

import math

import pytest

from ddpm_course.exercises import check
from ddpm_course.exercises.ddpm_discrete import EXERCISE_ANCESTRAL_STEP
from ddpm_course.solutions.ddpm_discrete import reference_ancestral_step

EX = EXERCISE_ANCESTRAL_STEP


def _step(*, sign=1.0, ab_shift=0, b_shift=0, root=True, scale="divide", noise="bt", noise_shift=0):
    def fn(x, eps_hat, z, i, schedule):
        beta = float(schedule.betas[i + b_shift])
        ab = float(schedule.alpha_bars[i + ab_shift])
        coef = beta / (math.sqrt(1 - ab) if root else (1 - ab))
        inner = x - sign * coef * eps_hat
        mean = {"divide": inner / math.sqrt(1 - beta), "multiply": inner * math.sqrt(1 - beta),
                "none": inner}[scale]
        k = i + noise_shift
        bt = float(schedule.posterior_variances[k]) if 1 <= k <= schedule.n else 0.0
        c = {"bt": math.sqrt(bt), "beta": math.sqrt(float(schedule.betas[i])), "var": bt, "none": 0.0,
             "minus": -math.sqrt(bt)}[noise]
        return mean + c * z
    return fn


def test_reference_passes():
    fb = check(EX, reference_ancestral_step)
    assert fb.passed, fb.hint


def test_library_posterior_variances_pass():
    def fn(x, eps_hat, z, i, schedule):
        b = float(schedule.betas[i])
        ab = float(schedule.alpha_bars[i])
        return (x - b / math.sqrt(1 - ab) * eps_hat) / math.sqrt(1 - b) + float(schedule.posterior_variances[i]).__pow__(0.5) * z
    assert check(EX, fn).passed


@pytest.mark.parametrize("kwargs, words", [
    ({"sign": -1.0}, "sign error"),
    ({"ab_shift": -1}, "ᾱ_{i−1}"),
    ({"ab_shift": -1, "b_shift": -1}, "0-based"),
    ({"root": False}, "square root"),
    ({"scale": "none"}, "left out the factor"),
    ({"scale": "multiply"}, "multiplied by √α_i"),
    ({"noise": "beta"}, "β_i, the other natural choice"),
    ({"noise": "var"}, "standard deviation"),
    ({"noise": "none"}, "adds no noise"),
    ({"noise": "minus"}, "minus sign"),
    ({"noise_shift": -1}, "β̃_{i−1}"),
])
def test_mistakes_are_named(kwargs, words):
    fb = check(EX, _step(**kwargs))
    assert not fb.passed
    assert words in fb.hint, fb.hint


def test_beta_plus_one_is_named():
    def fn(x, eps_hat, z, i, schedule):
        if i + 1 > schedule.n:
            return reference_ancestral_step(x, eps_hat, z, i, schedule)
        return _step(ab_shift=1, b_shift=1)(x, eps_hat, z, i, schedule)
    fb = check(EX, fn)
    assert not fb.passed and "i + 1" in fb.hint, fb.hint


def test_x0_hat_is_named():
    def fn(x, eps_hat, z, i, schedule):
        ab = float(schedule.alpha_bars[i])
        return (x - math.sqrt(1 - ab) * eps_hat) / math.sqrt(ab)
    fb = check(EX, fn)
    assert not fb.passed and "clean-image estimate" in fb.hint, fb.hint


def test_two_mistakes_both_named():
    fb = check(EX, _step(sign=-1.0, noise="beta"))
    assert not fb.passed and "sign error" in fb.hint and "other natural choice" in fb.hint


def test_crash_and_bad_shapes_are_feedback():
    def crash(x, eps_hat, z, i, schedule):
        raise RuntimeError("boom")

    def bad_shape(x, eps_hat, z, i, schedule):
        return x[:, 0]

    def returns_tuple(x, eps_hat, z, i, schedule):
        return x, z

    def nan(x, eps_hat, z, i, schedule):
        return x * float("nan")

    assert "RuntimeError" in check(EX, crash).hint
    assert "shape" in check(EX, bad_shape).hint
    assert "tuple" in check(EX, returns_tuple).hint
    assert "NaN" in check(EX, nan).hint


def test_unknown_mistake_gets_generic_hint():
    def fn(x, eps_hat, z, i, schedule):
        return reference_ancestral_step(x, eps_hat, z, i, schedule) + 0.1
    fb = check(EX, fn)
    assert not fb.passed and "matches none of the usual mistakes" in fb.hint
