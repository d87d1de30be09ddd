"""The checker of the OU chapter's coding exercise: the reference passes, each usual mistake is named."""
import pytest
import torch

from ddpm_course.exercises import check
from ddpm_course.solutions.ou import reference_vp_forward

EX = "ou-ex-vp-forward"


def _prod(betas, k):
    return torch.prod(1 - betas[:k])


def test_reference_passes():
    fb = check(EX, reference_vp_forward)
    assert fb.passed, fb.hint


def test_cumprod_variant_with_padding_passes():
    def answer(x0, i, eps, betas):
        ab = torch.cumprod(torch.cat([betas.new_zeros(1), betas]).neg().add(1), 0)[i]
        return ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    assert check(EX, answer).passed


def _wrong(kind):
    def answer(x0, i, eps, b):
        if kind == "one_short":
            ab = torch.cumprod(1 - b, 0)[i - 2] if i >= 2 else torch.tensor(1.0, dtype=b.dtype)
        elif kind == "one_long":
            ab = torch.cumprod(1 - b, 0)[min(i, b.numel() - 1)]
        elif kind == "no_sqrt":
            ab = _prod(b, i)
            return ab * x0 + (1 - ab) * eps
        elif kind == "beta_not_sqrt":
            ab = _prod(b, i)
            return ab.sqrt() * x0 + (1 - ab) * eps
        elif kind == "signal_no_sqrt":
            ab = _prod(b, i)
            return ab * x0 + (1 - ab).sqrt() * eps
        elif kind == "noise_sign":
            ab = _prod(b, i)
            return ab.sqrt() * x0 - (1 - ab).sqrt() * eps
        elif kind == "one_plus_beta":
            ab = torch.prod(1 + b[:i])
        elif kind == "prod_betas":
            ab = torch.prod(b[:i])
        elif kind == "last_step_only":
            return (1 - b[i - 1]).sqrt() * x0 + b[i - 1].sqrt() * eps
        elif kind == "exp_approx":
            t = b[:i].sum()
            return torch.exp(-t / 2) * x0 + (1 - torch.exp(-t)).sqrt() * eps
        elif kind == "forgot_abar0":
            ab = torch.cumprod(1 - b, 0)[i - 1]  # i = 0 wraps around to ᾱ_n
        else:
            raise AssertionError(kind)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    return answer


@pytest.mark.parametrize("kind, words", [
    ("one_short", "off-by-one"),
    ("one_long", "off-by-one"),
    ("no_sqrt", "square roots"),
    ("beta_not_sqrt", "variance"),
    ("signal_no_sqrt", "scaled by ᾱ_i"),
    ("noise_sign", "sign error"),
    ("one_plus_beta", "1 − β_j"),
    ("prod_betas", "multiplied the β_j"),
    ("last_step_only", "single step"),
    ("exp_approx", "e^{−t_i}"),
    ("forgot_abar0", "ᾱ_0 = 1"),
])
def test_mistake_is_named(kind, words):
    fb = check(EX, _wrong(kind))
    assert not fb.passed
    assert words in fb.hint, fb.hint


def test_tuple_shape_crash_and_mutation():
    assert "tuple" in check(EX, lambda x0, i, eps, b: (reference_vp_forward(x0, i, eps, b), eps)).hint
    assert "shape" in check(EX, lambda x0, i, eps, b: reference_vp_forward(x0, i, eps, b).sum(0)).hint
    fb = check(EX, lambda x0, i, eps, b: 1 / 0)
    assert not fb.passed and "ZeroDivisionError" in fb.hint

    def mutating(x0, i, eps, b):
        b.mul_(2)
        return reference_vp_forward(x0, i, eps, b / 2)
    assert "in place" in check(EX, mutating).hint


def test_unrecognised_mistake_gets_general_hint():
    fb = check(EX, lambda x0, i, eps, b: reference_vp_forward(x0, i, eps, b) + 0.1)
    assert not fb.passed and "matches none" in fb.hint
