"""Checkers for the exercises of the chapter "The reverse-time SDE".

``rsde-ex-backward-step``: the student writes ``backward_step(x, z, i, schedule, score)``
returning one step of the discrete backward chain,

    x_{i−1} = (x_i + β_i s(x_i, t_i)) / √(1 − β_i) + √β_i z,

with ``β_i = schedule.betas[i]``, ``t_i = schedule.times[i]`` (the arrays of a
:class:`ddpm_lib.Schedule` are indexed by the step number) and ``score(x, t)`` taking the
forward OU time. The checker runs the answer with the noise switched off (``z = 0``) and on,
so it can tell a wrong drift from a wrong noise scale, and names the usual mistakes: the
sign of the score term, the score evaluated at ``t_{i−1}`` instead of ``t_i``, ``β_{i±1}``
paired with ``x_i``, ``β`` or ``√(2β)`` in place of ``√β`` in front of the noise,
``√(1 − β)`` multiplying instead of dividing, and the Euler–Maruyama step in place of the
discrete update.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ddpm_lib.mixtures import ring_mixture
from ddpm_lib.schedules import Schedule, linear_schedule
from . import Feedback, register
from ._common import as_output, close, name_the_mistake, name_the_noise_mistake

__all__ = ["check_backward_step", "reference_backward_step", "DRIFT_MISTAKES", "NOISE_MISTAKES"]

EXERCISE_BACKWARD_STEP = "rsde-ex-backward-step"


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
DRIFT_MISTAKES: list[tuple[str, Callable, str]] = [
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
NOISE_MISTAKES: list[tuple[str, Callable[[Schedule, int], float | None], str]] = [
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


def _cases() -> tuple[Schedule, Callable, list[tuple[torch.Tensor, torch.Tensor, int]]]:
    """A coarse schedule (large, unequal β) and points where every mistake changes the answer visibly."""
    schedule = linear_schedule(12, beta_start=0.02, beta_end=0.35)
    score = ring_mixture(k=4, radius=2.0, std=0.4).score_fn()
    gen = torch.Generator().manual_seed(2024)
    cases = []
    for i in (2, 5, 11, 1, 12):
        x = 1.5 * torch.randn(6, 2, generator=gen, dtype=torch.float64)
        z = torch.randn(6, 2, generator=gen, dtype=torch.float64)
        cases.append((x, z, i))
    return schedule, score, cases


_NAME = "x_{i−1}"
_NAN_HINT = "a square root of a negative number, or 1/√(1 − β) at β = 1?"


@register(EXERCISE_BACKWARD_STEP)
def check_backward_step(answer: Callable[..., torch.Tensor]) -> Feedback:
    """Check ``backward_step(x, z, i, schedule, score)`` and name the mistake when it is wrong."""
    ex = EXERCISE_BACKWARD_STEP
    schedule, score, cases = _cases()
    wrong_drift, wrong_noise = [], []  # (case, student's drift) and (case, student's noise coefficient)
    for x, z, i in cases:
        out0, msg = as_output(answer(x.clone(), torch.zeros_like(z), i, schedule, score), x, _NAME, _NAN_HINT)
        if out0 is None:
            return Feedback(ex, False, msg)
        out1, msg = as_output(answer(x.clone(), z.clone(), i, schedule, score), x, _NAME, _NAN_HINT)
        if out1 is None:
            return Feedback(ex, False, msg)
        beta = float(schedule.betas[i])
        expected_drift = reference_backward_step(x, torch.zeros_like(z), i, schedule, score)
        if not close(out0, expected_drift):
            wrong_drift.append(((x, z, i), out0))
        # the noise part must be linear in z: coefficient from a least-squares fit of out1 − out0 on z
        diff = out1 - out0
        coef = float((diff * z).sum() / (z * z).sum())
        if not close(diff, coef * z) or abs(coef - math.sqrt(beta)) > 1e-7 * math.sqrt(beta):
            wrong_noise.append(((x, z, i), diff, coef))
    if not wrong_drift and not wrong_noise:
        return Feedback(ex, True, "x_{i−1} = (x_i + β_i s(x_i, t_i)) / √(1 − β_i) + √β_i z, with β_i and t_i read "
                                  "at index i: the step that takes x_i (at forward time t_i) to x_{i−1}.")
    hints = []
    if wrong_drift:
        hint = name_the_mistake(wrong_drift, DRIFT_MISTAKES,
                                lambda make, case: make(case[0], case[2], schedule, score))
        if hint:
            hints.append(hint)
        else:
            steps = sorted(c[2] for c, _ in wrong_drift)
            hints.append(f"with z = 0 your answer is wrong at i = {steps} and matches none of the usual mistakes. "
                         "Check the deterministic part (x_i + β_i s(x_i, t_i)) / √(1 − β_i), with "
                         "β_i = schedule.betas[i] and t_i = schedule.times[i].")
    if wrong_noise:
        hint = name_the_noise_mistake([(diff, i, z) for (x, z, i), diff, _ in wrong_noise], NOISE_MISTAKES, schedule)
        if hint:
            hints.append(hint)
        else:
            hints.append("the noise term is not √β_i z with β_i = schedule.betas[i] (check the index and the square "
                         "root; the noise must be added, not multiplied, and must be the z passed in).")
    return Feedback(ex, False, " Also: ".join(hints))
