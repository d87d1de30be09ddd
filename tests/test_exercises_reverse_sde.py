"""The checker of the reverse-SDE chapter's coding exercise passes the reference and names each mistake."""
from __future__ import annotations

import math

import pytest

from ddpm_course.exercises import check
from ddpm_course.exercises.reverse_sde import EXERCISE_BACKWARD_STEP
from ddpm_course.solutions.reverse_sde import reference_backward_step

EX = EXERCISE_BACKWARD_STEP


def _step(*, sign=1.0, t_shift=0, b_shift=0, noise_b_shift=0, scale="divide", noise="sqrt"):
    def fn(x, z, i, schedule, score):
        beta = float(schedule.betas[i + b_shift])
        nb = float(schedule.betas[i + noise_b_shift])
        s = score(x, float(schedule.times[i + t_shift]))
        if scale == "divide":
            mean = (x + sign * beta * s) / math.sqrt(1 - beta)
        elif scale == "multiply":
            mean = (x + sign * beta * s) * math.sqrt(1 - beta)
        elif scale == "none":
            mean = x + sign * beta * s
        else:  # Euler–Maruyama
            mean = x + beta * (0.5 * x + s)
        coef = {"sqrt": math.sqrt(nb), "beta": nb, "sqrt2": math.sqrt(2 * nb), "none": 0.0,
                "divided": math.sqrt(nb / (1 - nb)), "minus": -math.sqrt(nb)}[noise]
        return mean + coef * z
    return fn


def test_reference_passes():
    fb = check(EX, reference_backward_step)
    assert fb.passed, fb.hint


def test_plain_formula_passes():
    fb = check(EX, _step())
    assert fb.passed, fb.hint


@pytest.mark.parametrize("kwargs, words", [
    (dict(sign=-1.0), "sign error"),
    (dict(t_shift=-1), "t_{i−1}"),
    (dict(b_shift=-1, t_shift=-1, noise_b_shift=-1), "β_{i−1} and t_{i−1}"),
    (dict(scale="multiply"), "multiplied by √(1 − β_i)"),
    (dict(scale="none"), "1/√(1 − β_i)"),
    (dict(scale="euler"), "Euler–Maruyama"),
    (dict(noise="beta"), "its variance"),
    (dict(noise="sqrt2"), "√(2β_i)"),
    (dict(noise="divided"), "divided the noise"),
    (dict(noise="none"), "adds no noise"),
    (dict(noise="minus"), "minus sign"),
])
def test_mistakes_are_named(kwargs, words):
    fb = check(EX, _step(**kwargs))
    assert not fb.passed
    assert words in fb.hint, fb.hint


def test_beta_next_is_named():
    # β_{i+1} paired with x_i (a 0-based reading); at i = n the student's code has no β_{n+1} and crashes
    def fn(x, z, i, schedule, score):
        b = schedule.betas[1:]  # 0-based: b[k] = β_{k+1}
        beta = float(b[min(i, schedule.n - 1)])
        return (x + beta * score(x, float(schedule.times[i]))) / math.sqrt(1 - beta) + math.sqrt(beta) * z
    fb = check(EX, fn)
    assert not fb.passed
    assert "β_{i+1}" in fb.hint, fb.hint


def test_noise_index_is_named():
    fb = check(EX, _step(noise_b_shift=-1))
    assert not fb.passed
    assert "√β_{i−1}" in fb.hint, fb.hint


def test_crash_and_bad_output_are_feedback():
    def crash(x, z, i, schedule, score):
        raise RuntimeError("boom")
    fb = check(EX, crash)
    assert not fb.passed and "RuntimeError" in fb.hint
    fb = check(EX, lambda x, z, i, schedule, score: (x, z))
    assert not fb.passed and "tuple" in fb.hint
    fb = check(EX, lambda x, z, i, schedule, score: x[:, :1])
    assert not fb.passed and "shape" in fb.hint
