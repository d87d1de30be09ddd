"""The checker of the score-matching chapter's coding exercise: the reference passes, each usual mistake is named."""
import math

import pytest
import torch

from ddpm_course.exercises import check
from ddpm_course.exercises.score_matching import EXERCISE_TWEEDIE
from ddpm_course.solutions.score_matching import TWEEDIE_MISTAKES, reference_tweedie

EX = "dsm-ex-tweedie"


def test_reference_passes():
    fb = check(EX, reference_tweedie)
    assert fb.passed, fb.hint


def test_equivalent_forms_pass():
    def via_eps(x, s, a):  # the ε-form with ε = −√(1 − ᾱ) s
        eps = -torch.sqrt(1 - a) * s
        return (x - torch.sqrt(1 - a) * eps) / torch.sqrt(a)

    def with_math(x, s, a):  # math.sqrt on a 0-d tensor works too
        return (x + (1 - float(a)) * s) / math.sqrt(float(a))

    assert check(EX, via_eps).passed
    assert check(EX, with_math).passed


WRONG = {
    "sign": lambda x, s, a: (x - (1 - a) * s) / a.sqrt(),
    "abar_denominator": lambda x, s, a: (x + (1 - a) * s) / a,
    "sqrt_variance": lambda x, s, a: (x + (1 - a).sqrt() * s) / a.sqrt(),
    "score_as_noise": lambda x, s, a: (x - (1 - a).sqrt() * s) / a.sqrt(),
    "no_division": lambda x, s, a: x + (1 - a) * s,
    "times_sqrt": lambda x, s, a: a.sqrt() * (x + (1 - a) * s),
    "score_term_only": lambda x, s, a: x + (1 - a) * s / a.sqrt(),
    "x_only": lambda x, s, a: x / a.sqrt() + (1 - a) * s,
    "swapped": lambda x, s, a: (x + a * s) / (1 - a).sqrt(),
    "abar_factor": lambda x, s, a: (x + a * s) / a.sqrt(),
}


@pytest.mark.parametrize("kind, words", [
    ("sign", "sign error"),
    ("abar_denominator", "divided by ᾱ"),
    ("sqrt_variance", "√(1 − ᾱ), a standard deviation"),
    ("score_as_noise", "ε-form"),
    ("no_division", "forgot to undo the signal scale"),
    ("times_sqrt", "multiplied by √ᾱ"),
    ("score_term_only", "only the score term"),
    ("x_only", "only x_i"),
    ("swapped", "swapped"),
    ("abar_factor", "multiplied by ᾱ"),
])
def test_mistake_is_named(kind, words):
    fb = check(EX, WRONG[kind])
    assert not fb.passed
    assert words in fb.hint, fb.hint


def test_every_listed_mistake_is_distinguishable():
    # each mistake, run as an answer, gets its own hint (no mistake is shadowed by an earlier one)
    for name, make, hint in TWEEDIE_MISTAKES:
        fb = check(EX, make)
        assert not fb.passed and fb.hint == hint, name


def test_shape_tuple_crash_nan_and_mutation():
    assert "tuple" in check(EX, lambda x, s, a: (reference_tweedie(x, s, a), s)).hint
    assert "shape" in check(EX, lambda x, s, a: reference_tweedie(x, s, a).sum(1)).hint
    fb = check(EX, lambda x, s, a: 1 / 0)
    assert not fb.passed and "ZeroDivisionError" in fb.hint
    assert "NaN" in check(EX, lambda x, s, a: (x + (1 - a) * s) / torch.sqrt(-a)).hint

    def mutating(x, s, a):
        x.add_((1 - a) * s)
        return x / a.sqrt()
    assert "in place" in check(EX, mutating).hint


def test_unrecognised_mistake_gets_general_hint():
    fb = check(EX, lambda x, s, a: reference_tweedie(x, s, a) + 0.1)
    assert not fb.passed and "matches none" in fb.hint
