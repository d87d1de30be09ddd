"""Checkers for the exercises of the chapter "Forward–backward duality" (book/duality.ipynb)."""
from __future__ import annotations

import math
from typing import Callable

import torch

from . import Feedback, register

__all__ = ["check_kl_gaussian_to_standard", "kl_reference"]

EXERCISE = "ex-duality-kl-code"


def _parts(mu: torch.Tensor, var: torch.Tensor, T: float, mean_exp: float, var_exp: float):
    """Per-coordinate ``m = e^{−mean_exp·T} μ`` and ``v = e^{−var_exp·T} var + 1 − e^{−var_exp·T}``."""
    m = math.exp(-mean_exp * T) * mu
    a2 = math.exp(-var_exp * T)
    v = a2 * var + 1 - a2
    return m, v


def kl_reference(mu: torch.Tensor, var: torch.Tensor, T: float) -> torch.Tensor:
    """``KL(p_T ‖ N(0, I))`` for ``p_0 = N(mu, diag(var))`` under the OU process (0-dim tensor)."""
    m, v = _parts(mu, var, T, 0.5, 1.0)
    return 0.5 * (v + m**2 - 1 - torch.log(v)).sum()


# plausible wrong answers: name -> (function of (mu, var, T) returning a per-coordinate or summed value, hint)
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


_WRONG: list[tuple[str, Callable, str]] = [
    ("mean e^{-T}", _variant(mean_exp=1.0),
     "the mean is scaled by e^{−T}; the OU mean decays like e^{−T/2} (ou_mean_scale), m_T = e^{−T/2} μ, "
     "so m_T² = e^{−T} μ²"),
    ("var e^{-T/2}", _variant(var_exp=0.5),
     "the variance uses e^{−T/2}; the data part of the variance is scaled by the square of the mean factor, "
     "v_T = e^{−T} var + 1 − e^{−T}"),
    ("both swapped", _variant(mean_exp=1.0, var_exp=0.5),
     "e^{−T} and e^{−T/2} are swapped: the mean factor is e^{−T/2}, the variance factor e^{−T}"),
    ("no log", _variant(log_sign=0.0),
     "the −log v_T term is missing: KL(N(m, v) ‖ N(0, 1)) = ½ (v + m² − 1 − log v)"),
    ("log sign", _variant(log_sign=+1.0),
     "the log term has the wrong sign: it is −log v_T (the KL is ½ (v + m² − 1 − log v) ≥ 0)"),
    ("no half", _variant(half=1.0), "the factor ½ in front of (v + m² − 1 − log v) is missing"),
    ("reverse KL", _variant(reverse=True),
     "this is KL(N(0, I) ‖ p_T), the other direction; the exercise asks for KL(p_T ‖ N(0, I)) = "
     "½ Σ (v + m² − 1 − log v)"),
    ("no noise", _variant(noise=False),
     "the variance misses the added noise 1 − e^{−T}: v_T = e^{−T} var + (1 − e^{−T})"),
]

_CASES: list[tuple[list[float], list[float], float]] = [
    ([1.0], [1.0], 1.0),
    ([0.5, -2.0, 0.0], [0.25, 2.0, 1.0], 0.7),
    ([3.0, 1.0], [0.1, 4.0], 2.5),
    ([-1.5], [0.5], 0.2),
]


def _as_scalar(out) -> torch.Tensor:
    return torch.as_tensor(out, dtype=torch.float64)


@register(EXERCISE)
def check_kl_gaussian_to_standard(fn: Callable) -> Feedback:
    """Check ``kl_gaussian_to_standard(mu, var, T)`` against the closed form and diagnose common slips."""
    outs, refs = [], []
    for mu_l, var_l, T in _CASES:
        mu = torch.tensor(mu_l, dtype=torch.float64)
        var = torch.tensor(var_l, dtype=torch.float64)
        try:
            out = _as_scalar(fn(mu.clone(), var.clone(), T))
        except Exception as exc:  # noqa: BLE001 - a crash is feedback
            return Feedback(EXERCISE, False, f"your function raised {type(exc).__name__}: {exc} "
                                             f"(on mu={mu_l}, var={var_l}, T={T})")
        outs.append(out)
        refs.append(kl_reference(mu, var, T))

    # the unsummed answer: a vector with one entry per coordinate
    for (mu_l, var_l, T), out in zip(_CASES, outs):
        if out.numel() != 1:
            per = _variant(total=False)(torch.tensor(mu_l, dtype=torch.float64),
                                        torch.tensor(var_l, dtype=torch.float64), T)
            if out.shape == per.shape and torch.allclose(out, per, rtol=1e-6, atol=1e-10):
                return Feedback(EXERCISE, False, "you return one KL per coordinate: sum over the d coordinates "
                                                 "(independent coordinates add their KLs) and return a 0-dim tensor")
            return Feedback(EXERCISE, False, f"the KL must be a single number, got a tensor of shape "
                                             f"{tuple(out.shape)} for d = {len(mu_l)}")
    if not all(bool(torch.isfinite(o).all()) for o in outs):
        return Feedback(EXERCISE, False, "your function returned NaN or infinity on a valid input "
                                         "(is the log taken of a positive variance?)")
    outs = [o.reshape(()) for o in outs]

    if all(torch.allclose(o, r, rtol=1e-6, atol=1e-10) for o, r in zip(outs, refs)):
        # also T = 0 (the data law itself) and a large T (the KL must vanish)
        mu, var = torch.tensor([1.0, -0.5], dtype=torch.float64), torch.tensor([0.5, 2.0], dtype=torch.float64)
        try:
            big = float(_as_scalar(fn(mu, var, 30.0)).reshape(()))
        except Exception as exc:  # noqa: BLE001
            return Feedback(EXERCISE, False, f"your function raised {type(exc).__name__} at T = 30: {exc}")
        if not abs(big) < 1e-9:
            return Feedback(EXERCISE, False, f"at T = 30 the KL should be ≈ 0 (p_T ≈ N(0, I)), got {big:.3g}")
        return Feedback(EXERCISE, True, "KL(p_T ‖ N(0, I)) = ½ Σ (v_T + m_T² − 1 − log v_T) with m_T = e^{−T/2} μ, "
                                        "v_T = e^{−T} var + 1 − e^{−T}; it decays like ½|μ|² e^{−T}")

    for name, wrong, hint in _WRONG:
        vals = []
        for mu_l, var_l, T in _CASES:
            vals.append(_as_scalar(wrong(torch.tensor(mu_l, dtype=torch.float64),
                                         torch.tensor(var_l, dtype=torch.float64), T)).reshape(()))
        if all(torch.allclose(o, w, rtol=1e-6, atol=1e-10) for o, w in zip(outs, vals)):
            return Feedback(EXERCISE, False, hint)

    worst = max(range(len(_CASES)), key=lambda k: float((outs[k] - refs[k]).abs()))
    mu_l, var_l, T = _CASES[worst]
    return Feedback(EXERCISE, False,
                    f"for mu={mu_l}, var={var_l}, T={T} you return {float(outs[worst]):.6g}, the KL is "
                    f"{float(refs[worst]):.6g}. Recall p_T = N(e^{{−T/2}} μ, e^{{−T}} var + 1 − e^{{−T}}) per coordinate "
                    f"and KL(N(m, v) ‖ N(0, 1)) = ½ (v + m² − 1 − log v)")
