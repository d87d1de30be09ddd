"""The checker of the Langevin chapter's coding exercise: it passes the reference and names each mistake."""
import math

import pytest
import torch

from ddpm_course.exercises import check
from ddpm_course.solutions.langevin import reference_langevin_step


def test_reference_passes():
    fb = check("langevin-step", reference_langevin_step)
    assert fb.passed, fb.hint


def test_reference_in_other_form_passes():
    def answer(x, score, h, z):
        return torch.addcmul(x + h * score(x), torch.ones_like(z), z, value=(2 * h) ** 0.5)

    assert check("langevin-step", answer).passed


@pytest.mark.parametrize("wrong, words", [
    (lambda x, s, h, z: x + h * s(x) + math.sqrt(h) * z, "√h instead of √(2h)"),
    (lambda x, s, h, z: x + h / 2 * s(x) + math.sqrt(h) * z, "other convention"),
    (lambda x, s, h, z: x + h / 2 * s(x) + math.sqrt(2 * h) * z, "drift is h s / 2"),
    (lambda x, s, h, z: x - h * s(x) + math.sqrt(2 * h) * z, "wrong sign"),
    (lambda x, s, h, z: x + h * s(x), "noise term is missing"),
    (lambda x, s, h, z: x + h * s(x) + 2 * h * z, "scaled by 2h"),
    (lambda x, s, h, z: x + h * s(x) - math.sqrt(2 * h) * z, "minus sign"),
    (lambda x, s, h, z: h * s(x) + math.sqrt(2 * h) * z, "current state x is missing"),
    (lambda x, s, h, z: x + s(x) + math.sqrt(2 * h) * z, "not multiplied by the step size"),
    (lambda x, s, h, z: x + h * s(x + z) + math.sqrt(2 * h) * z, "none of the usual mistakes"),
])
def test_mistakes_are_named(wrong, words):
    fb = check("langevin-step", wrong)
    assert not fb.passed
    assert words in fb.hint, fb.hint


def test_in_place_change_is_caught():
    def answer(x, score, h, z):
        x += h * score(x) + math.sqrt(2 * h) * z
        return x

    fb = check("langevin-step", answer)
    assert not fb.passed and "in place" in fb.hint


def test_wrong_shape_and_type_and_crash():
    assert "shape" in check("langevin-step", lambda x, s, h, z: (x + h * s(x)).sum(0)).hint
    assert "torch.Tensor" in check("langevin-step", lambda x, s, h, z: "1.0").hint
    fb = check("langevin-step", lambda x, s, h, z: 1 / 0)
    assert not fb.passed and "ZeroDivisionError" in fb.hint
