"""Solution of ``ex-duality-kl-code`` (chapter *Forward–backward duality*) and the usual mistakes."""
from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["kl_reference", "MISTAKES", "SOLUTIONS"]


def _parts(mu: torch.Tensor, var: torch.Tensor, T: float, mean_exp: float, var_exp: float):
    """Per-coordinate ``m = e^{−mean_exp·T} μ`` and ``v = e^{−var_exp·T} var + 1 − e^{−var_exp·T}``."""
    m = math.exp(-mean_exp * T) * mu
    a2 = math.exp(-var_exp * T)
    return m, a2 * var + 1 - a2


def kl_reference(mu: torch.Tensor, var: torch.Tensor, T: float) -> torch.Tensor:
    """``KL(p_T ‖ N(0, I))`` for ``p_0 = N(mu, diag(var))`` under the OU process (0-dim tensor)."""
    m, v = _parts(mu, var, T, 0.5, 1.0)
    return 0.5 * (v + m**2 - 1 - torch.log(v)).sum()


def _variant(mean_exp: float = 0.5, var_exp: float = 1.0, log_sign: float = -1.0, half: float = 0.5,
             reverse: bool = False, total: bool = True, noise: bool = True) -> Callable:
    def fn(mu: torch.Tensor, var: torch.Tensor, T: float) -> torch.Tensor:
        m, v = _parts(mu, var, T, mean_exp, var_exp)
        if not noise:
            v = math.exp(-var_exp * T) * var
        if reverse:
            per = half * (1 / v + m**2 / v - 1 + torch.log(v))
        else:
            per = half * (v + m**2 - 1 + log_sign * torch.log(v))
        return per.sum() if total else per
    return fn


MISTAKES: list[tuple[str, Callable, str]] = [
    ("per coordinate", _variant(total=False),
     "you return one KL per coordinate: sum over the d coordinates (independent coordinates add their KLs) "
     "and return a 0-dim tensor"),
    ("mean e^{-T}", _variant(mean_exp=1.0),
     "the mean is scaled by e^{−T}; the OU mean decays like e^{−T/2} (ou_mean_scale)"),
    ("var e^{-T/2}", _variant(var_exp=0.5),
     "the variance uses e^{−T/2}; the data part of the variance is scaled by the square of the mean factor"),
    ("both swapped", _variant(mean_exp=1.0, var_exp=0.5),
     "e^{−T} and e^{−T/2} are swapped between the mean factor and the variance factor"),
    ("no log", _variant(log_sign=0.0), "the log term of the Gaussian KL is missing"),
    ("log sign", _variant(log_sign=+1.0), "the log term has the wrong sign (a KL is ≥ 0)"),
    ("no half", _variant(half=1.0), "the factor ½ in front of the Gaussian KL is missing"),
    ("reverse KL", _variant(reverse=True),
     "this is KL(N(0, I) ‖ p_T), the other direction; the exercise asks for KL(p_T ‖ N(0, I))"),
    ("no noise", _variant(noise=False),
     "the variance misses the noise the OU process adds, 1 − e^{−T}"),
]

SOLUTIONS = {"ex-duality-kl-code": (kl_reference, MISTAKES)}
