"""Solution of ``rsde-ex-backward-step`` (chapter *The reverse-time SDE*) and the usual mistakes.

Mistakes of the deterministic part come with the right noise and vice versa, so that the
judge can name a wrong drift and a wrong noise scale separately.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ddpm_lib.schedules import Schedule

__all__ = ["reference_backward_step", "MISTAKES", "SOLUTIONS"]


def reference_backward_step(x: torch.Tensor, z: torch.Tensor, i: int, schedule: Schedule,
                            score: Callable[[torch.Tensor, float], torch.Tensor]) -> torch.Tensor:
    """The reference answer: ``(x + β_i s(x, t_i)) / √(1 − β_i) + √β_i z``."""
    beta = float(schedule.betas[i])
    t = float(schedule.times[i])
    return (x + beta * score(x, t)) / math.sqrt(1 - beta) + math.sqrt(beta) * z


def _beta(schedule: Schedule, k: int) -> float | None:
    return float(schedule.betas[k]) if 1 <= k <= schedule.n else None


def _drift(x, i, schedule, score, *, beta_index=None, time_index=None, sign=1.0, scale="divide"):
    """The deterministic part of a (possibly wrong) update; ``None`` when an index is out of range."""
    bi = i if beta_index is None else beta_index
    ti = i if time_index is None else time_index
    beta = _beta(schedule, bi)
    if beta is None or not 0 <= ti <= schedule.n:
        return None
    s = score(x, float(schedule.times[ti]))
    if scale == "divide":
        return (x + sign * beta * s) / math.sqrt(1 - beta)
    if scale == "multiply":
        return (x + sign * beta * s) * math.sqrt(1 - beta)
    if scale == "none":
        return x + sign * beta * s
    if scale == "euler":
        return x + beta * (0.5 * x + sign * s)
    raise ValueError(scale)


# Mistakes in the deterministic part (checked with z = 0): (name, drift(x, i, schedule, score), hint).
_DRIFTS: list[tuple[str, Callable, str]] = [
    ("sign of the score term",
     lambda x, i, sc, s: _drift(x, i, sc, s, sign=-1.0),
     "sign error: the score term enters with a plus sign, x_i + β_i s(x_i, t_i). The backward drift "
     "½x + s pushes points *up* the log-density; with −β s the chain runs away from the data."),
    ("score at t_{i-1}",
     lambda x, i, sc, s: _drift(x, i, sc, s, time_index=i - 1),
     "off-by-one index: you evaluated the score at t_{i−1} = schedule.times[i − 1]. The point you hold is "
     "x_i, which lives at forward time t_i: use score(x, schedule.times[i])."),
    ("score at t_{i+1}",
     lambda x, i, sc, s: _drift(x, i, sc, s, time_index=i + 1),
     "off-by-one index: you evaluated the score at t_{i+1} = schedule.times[i + 1]. The point you hold is "
     "x_i, which lives at forward time t_i: use score(x, schedule.times[i])."),
    ("beta_{i+1} paired with x_i",
     lambda x, i, sc, s: _drift(x, i, sc, s, beta_index=i + 1, time_index=i),
     "off-by-one index: you used β_{i+1} = schedule.betas[i + 1] (a 0-based reading of the betas?). Step i "
     "takes x_i to x_{i−1} and uses β_i = schedule.betas[i]; the arrays of a Schedule are indexed by the "
     "step number, with betas[0] = 0."),
    ("beta_{i-1} and t_{i-1}",
     lambda x, i, sc, s: _drift(x, i, sc, s, beta_index=i - 1, time_index=i - 1),
     "off-by-one index: you used β_{i−1} and t_{i−1} (entry i − 1 of the schedule's arrays, e.g. a 0-based "
     "loop index on the 1-based arrays). Step i uses β_i = schedule.betas[i] and t_i = schedule.times[i]."),
    ("beta_{i-1} paired with x_i",
     lambda x, i, sc, s: _drift(x, i, sc, s, beta_index=i - 1, time_index=i),
     "off-by-one index: you used β_{i−1} = schedule.betas[i − 1]. Step i takes x_i to x_{i−1} and uses "
     "β_i = schedule.betas[i]."),
    ("multiply by sqrt(1 - beta)",
     lambda x, i, sc, s: _drift(x, i, sc, s, scale="multiply"),
     "you multiplied by √(1 − β_i); the backward step *undoes* the forward shrinking x_i = √(1 − β_i) x_{i−1} + …, "
     "so it divides: (x_i + β_i s) / √(1 − β_i)."),
    ("no sqrt(1 - beta)",
     lambda x, i, sc, s: _drift(x, i, sc, s, scale="none"),
     "you left out the factor 1/√(1 − β_i): x_i + β_i s is the Langevin-like part only; dividing by "
     "√(1 − β_i) ≈ 1 + β_i/2 supplies the ½x of the backward drift ½x + s."),
    ("Euler-Maruyama instead of the discrete update",
     lambda x, i, sc, s: _drift(x, i, sc, s, scale="euler"),
     "you wrote the Euler–Maruyama step x + β_i(½x + s) + √β_i z. It agrees with the discrete update to first "
     "order in β_i (and is a fine sampler), but the exercise asks for (x_i + β_i s) / √(1 − β_i) + √β_i z."),
]

# Mistakes in the noise coefficient (found from the answer with z and with z = 0):
# (name, coefficient(schedule, i) or None where undefined, hint).
_NOISES: list[tuple[str, Callable[[Schedule, int], float | None], str]] = [
    ("beta instead of sqrt(beta)", lambda sc, i: _beta(sc, i),
     "the noise is scaled by β_i, which is its variance: multiply z by the standard deviation √β_i "
     "(the backward time advances by dt' = β_i, so the Brownian increment has variance β_i)."),
    ("sqrt(2 beta)", lambda sc, i: math.sqrt(2 * _beta(sc, i)),
     "the noise is scaled by √(2β_i), as in Langevin dynamics. The backward SDE has noise dW, not √2 dW: over "
     "dt' = β_i its standard deviation is √β_i."),
    ("sqrt(beta / (1 - beta))", lambda sc, i: math.sqrt(_beta(sc, i) / (1 - _beta(sc, i))),
     "you divided the noise by √(1 − β_i) too. Only the deterministic part is divided: "
     "(x_i + β_i s) / √(1 − β_i) + √β_i z."),
    ("sqrt(beta_{i+1})", lambda sc, i: None if _beta(sc, i + 1) is None else math.sqrt(_beta(sc, i + 1)),
     "off-by-one index in the noise: you used √β_{i+1} = √schedule.betas[i + 1]. Step i uses β_i = schedule.betas[i]."),
    ("sqrt(beta_{i-1})", lambda sc, i: None if _beta(sc, i - 1) is None else math.sqrt(_beta(sc, i - 1)),
     "off-by-one index in the noise: you used √β_{i−1} = √schedule.betas[i − 1]. Step i uses β_i = schedule.betas[i]."),
    ("no noise", lambda sc, i: 0.0,
     "your update adds no noise. Without √β_i z the chain is neither the reverse SDE nor its probability-flow ODE "
     "(whose drift is ½x + ½s, not ½x + s); add √β_i z."),
    ("minus the noise", lambda sc, i: -math.sqrt(_beta(sc, i)),
     "the noise enters with a minus sign. In law that is harmless (z and −z have the same distribution), but the "
     "exercise's convention is + √β_i z, and the checker passes the same z to compare outputs."),
]


def _with_drift(drift: Callable) -> Callable:
    def wrong(x, z, i, sc, s):
        d = drift(x, i, sc, s)
        return None if d is None else d + math.sqrt(float(sc.betas[i])) * z
    return wrong


def _with_noise(coef: Callable) -> Callable:
    def wrong(x, z, i, sc, s):
        k = coef(sc, i)
        return None if k is None else reference_backward_step(x, torch.zeros_like(z), i, sc, s) + k * z
    return wrong


MISTAKES = ([(name, _with_drift(d), hint) for name, d, hint in _DRIFTS]
            + [(name, _with_noise(k), hint) for name, k, hint in _NOISES])

SOLUTIONS = {"rsde-ex-backward-step": (reference_backward_step, MISTAKES)}
